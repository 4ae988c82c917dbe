// The partition holding a memory id (the stable id a memory's versions share), or no row.
// Index seek on the fact registry. Parameters: $memory_id (STRING).
MATCH (ref:FactRef)
WHERE ref.memory_id = $memory_id
RETURN ref.partition AS partition
ORDER BY partition
LIMIT 1
