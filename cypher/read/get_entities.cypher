// Entities by id within one partition; unknown ids are left out.
// Parameters: $partition, $ids (LIST<STRING>), $with_embeddings (BOOLEAN).
MATCH (e:Entity)
WHERE e.id IN $ids AND e.partition = $partition
RETURN e {
  .id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at
} AS entity,
  CASE WHEN $with_embeddings THEN e.embedding ELSE null END AS embedding
