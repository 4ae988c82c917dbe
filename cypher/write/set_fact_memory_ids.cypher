// Record each new fact's memory id on its registry node, so a memory's versions are found by
// one index seek (schema/index_fact_ref_memory.cypher). Runs in the same transaction as
// write/create_facts. Parameters: $partition, $rows: LIST<MAP> with id, memory_id.
UNWIND $rows AS row
MATCH (ref:FactRef {id: row.id})
WHERE ref.partition = $partition
SET ref.memory_id = row.memory_id
RETURN count(ref) AS updated
