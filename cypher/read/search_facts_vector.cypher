// The k facts in scope most similar to the query vector. Facts are relationships of an
// open set of types and a relationship vector index covers one type only, so similarity is
// computed in Cypher over the scope's facts (anchored on the partition's entities) with
// vector.similarity.cosine; Neo4j normalises it to (1 + cos) / 2 and we map it back to the
// cosine in [-1, 1]. Only ids, properties and scores leave the server, never vectors.
// Parameters: $partition, $agent_id, $run_id, $include_invalid, $vector (LIST<FLOAT>),
//             $k (INTEGER), $with_embeddings (BOOLEAN).
MATCH (a:Entity {partition: $partition})-[r]->(b:Entity)
WHERE r.partition = $partition
  AND r.embedding IS NOT NULL
  AND ($agent_id IS NULL OR r.agent_id = $agent_id)
  AND ($run_id IS NULL OR r.run_id = $run_id)
  AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
WITH a, r, b, 2.0 * coalesce(vector.similarity.cosine(r.embedding, $vector), 0.5) - 1.0 AS score
ORDER BY score DESC, r.id ASC
LIMIT $k
RETURN r {
  .id, .partition, .user_id, .agent_id, .run_id, .fact, .valid_at, .invalid_at,
  .created_at, .expired_at, .episodes, .confidence, .invalidated_by, .metadata_json, .memory_id
} AS fact,
  type(r) AS relation, a.id AS source_id, a.name AS source, b.id AS target_id, b.name AS target,
  CASE WHEN $with_embeddings THEN r.embedding ELSE null END AS embedding, score
