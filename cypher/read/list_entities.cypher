// Every entity of a partition, without embeddings, ordered by (created_at, id).
// Parameters: $partition.
MATCH (e:Entity {partition: $partition})
WITH e
ORDER BY e.created_at ASC, e.id ASC
RETURN e {
  .id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at
} AS entity, null AS embedding
