// Facts by id within one partition, current or not; unknown ids are left out.
// Index seek on the fact registry (:FactRef, see schema/constraint_fact_ref_id.cypher), then
// one expand from the fact's source entity: cost independent of the partition's size.
// Parameters: $partition, $ids (LIST<STRING>), $with_embeddings (BOOLEAN).
MATCH (ref:FactRef)
WHERE ref.id IN $ids AND ref.partition = $partition
MATCH (a:Entity {id: ref.source_id})-[r]->(b:Entity)
WHERE r.id = ref.id AND r.partition = $partition
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
