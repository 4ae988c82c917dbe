// Facts in scope ordered by (created_at, id); current only unless $include_invalid; with
// $limit, only the newest $limit of them.
// Parameters: $partition, $agent_id (STRING|null), $run_id (STRING|null),
//             $include_invalid (BOOLEAN), $with_embeddings (BOOLEAN), $limit (INTEGER|null).
MATCH (a:Entity {partition: $partition})-[r]->(b:Entity)
WHERE r.partition = $partition
  AND ($agent_id IS NULL OR r.agent_id = $agent_id)
  AND ($run_id IS NULL OR r.run_id = $run_id)
  AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
WITH a, r, b
ORDER BY r.created_at DESC, r.id DESC
LIMIT coalesce($limit, 9223372036854775807)
WITH a, r, b
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
