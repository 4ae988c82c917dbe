// Facts written before memory ids: each is its own memory (memory_id = its id), on the
// relationship and on its registry node. Idempotent; run once per store object at setup.
// Parameters: $batch (INTEGER: at most this many facts per run; the store repeats while any
// remain).
MATCH (ref:FactRef)
WHERE ref.memory_id IS NULL
WITH ref
LIMIT $batch
MATCH (:Entity {id: ref.source_id})-[r]->(:Entity)
WHERE r.id = ref.id AND r.partition = ref.partition
SET ref.memory_id = ref.id, r.memory_id = coalesce(r.memory_id, ref.id)
RETURN count(ref) AS updated
