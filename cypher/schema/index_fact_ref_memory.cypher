// Range index: a memory's versions are found by their shared memory id (Memory.get, history,
// update and delete by Mem0's memory_id).
CREATE INDEX graphmem_fact_ref_memory IF NOT EXISTS
FOR (ref:FactRef) ON (ref.memory_id)
