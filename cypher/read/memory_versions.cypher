// Every version (fact) of one memory, current or not, ordered by (created_at, id).
// Index seek on the fact registry by memory id, then one expand from each source entity.
// Parameters: $partition, $memory_id.
MATCH (ref:FactRef)
WHERE ref.memory_id = $memory_id AND ref.partition = $partition
MATCH (a:Entity {id: ref.source_id})-[r]->(b:Entity)
WHERE r.id = ref.id AND r.partition = $partition
WITH a, r, b
ORDER BY r.created_at ASC, r.id ASC
RETURN r {
  .id, .partition, .user_id, .agent_id, .run_id, .fact, .valid_at, .invalid_at,
  .created_at, .expired_at, .episodes, .confidence, .invalidated_by, .metadata_json, .memory_id
} AS fact,
  type(r) AS relation, a.id AS source_id, a.name AS source, b.id AS target_id, b.name AS target,
  null AS embedding
