// Facts written before the registry node carried search fields (target_id, scope, validity,
// vector) get them from their relationship, once: setup() runs this; it touches only
// registry nodes without target_id, so on a current database it finds nothing.
// Parameters: none.
MATCH (ref:FactRef)
WHERE ref.target_id IS NULL
MATCH (:Entity {id: ref.source_id})-[r]->(b:Entity)
WHERE r.id = ref.id
SET ref.target_id = b.id,
    ref.agent_id = r.agent_id,
    ref.run_id = r.run_id,
    ref.invalid_at = r.invalid_at,
    ref.expired_at = r.expired_at,
    ref.embedding = r.embedding
RETURN count(ref) AS updated
