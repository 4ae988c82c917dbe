// Facts whose source or target is one of the entities, in either direction; not narrowed
// by agent/run (conflict detection sees the whole user graph). Ordered by (created_at, id).
// Parameters: $partition, $entity_ids (LIST<STRING>), $include_invalid, $with_embeddings.
MATCH (e:Entity)
WHERE e.id IN $entity_ids AND e.partition = $partition
MATCH (e)-[r]-(:Entity)
WHERE r.partition = $partition
  AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
WITH DISTINCT r
WITH startNode(r) AS a, r, endNode(r) AS b
ORDER BY r.created_at ASC, r.id ASC
RETURN r {
  .id, .partition, .user_id, .agent_id, .run_id, .fact, .episodes, .confidence,
  .invalidated_by, .metadata_json, .memory_id,
  valid_at: r.valid_at.epochSeconds * 1000000 + r.valid_at.microsecond,
  invalid_at: r.invalid_at.epochSeconds * 1000000 + r.invalid_at.microsecond,
  created_at: r.created_at.epochSeconds * 1000000 + r.created_at.microsecond,
  expired_at: r.expired_at.epochSeconds * 1000000 + r.expired_at.microsecond
} AS fact,
  type(r) AS relation, a.id AS source_id, a.name AS source, b.id AS target_id, b.name AS target,
  CASE WHEN $with_embeddings THEN r.embedding ELSE null END AS embedding
