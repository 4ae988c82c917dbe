// Current facts the conflict detector can flag new facts against, read by probe instead of
// reading every fact of a hub entity: from a source entity (optionally with one relation type
// and/or one target), or into a target entity with one relation type. Not narrowed by
// agent/run. Ordered by (created_at, id).
// Parameters: $partition, $with_embeddings (the detector compares vectors: true),
//   $by_source (LIST<MAP>: {entity_id, relation (STRING or null), target_id (STRING or null)}),
//   $by_target (LIST<MAP>: {entity_id, relation}).
CALL () {
  UNWIND $by_source AS probe
  MATCH (a:Entity {id: probe.entity_id})-[r]->(b:Entity)
  WHERE a.partition = $partition AND r.partition = $partition
    AND r.invalid_at IS NULL AND r.expired_at IS NULL
    AND (probe.relation IS NULL OR type(r) = probe.relation)
    AND (probe.target_id IS NULL OR b.id = probe.target_id)
  RETURN r
  UNION
  UNWIND $by_target AS probe
  MATCH (a:Entity)-[r]->(b:Entity {id: probe.entity_id})
  WHERE b.partition = $partition AND r.partition = $partition
    AND r.invalid_at IS NULL AND r.expired_at IS NULL
    AND type(r) = probe.relation
  RETURN r
}
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
