// The partition holding a fact id (any partition), or no row. Index seek on the fact
// registry, confirmed against the relationship itself. Parameters: $id (STRING).
MATCH (ref:FactRef {id: $id})
MATCH (a:Entity {id: ref.source_id})-[r]->(:Entity)
WHERE r.id = $id AND r.partition = ref.partition
RETURN ref.partition AS partition
LIMIT 1
