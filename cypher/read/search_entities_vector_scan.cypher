// Exact cosine similarity over the partition's entities (no vector index yet: setup() not
// run, or a zero query vector the index cannot take). Scores mapped back to [-1, 1].
// Parameters: $vector (LIST<FLOAT>), $k, $partition.
MATCH (e:Entity {partition: $partition})
WHERE e.embedding IS NOT NULL
WITH e, 2.0 * coalesce(vector.similarity.cosine(e.embedding, $vector), 0.5) - 1.0 AS score
ORDER BY score DESC, e.id ASC
LIMIT $k
RETURN e {
  .id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at
} AS entity, null AS embedding, score
