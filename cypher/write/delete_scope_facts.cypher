// Remove up to $batch of the scope's facts (narrowed by agent/run when given) with their
// registry nodes; returns how many facts (the store repeats it until fewer than $batch go:
// one transaction for a 100k-fact user outgrows the server's transaction memory).
// Parameters: $partition, $agent_id (STRING|null), $run_id (STRING|null), $batch (INTEGER).
MATCH (:Entity {partition: $partition})-[r]->(:Entity)
WHERE r.partition = $partition
  AND ($agent_id IS NULL OR r.agent_id = $agent_id)
  AND ($run_id IS NULL OR r.run_id = $run_id)
WITH r
LIMIT $batch
OPTIONAL MATCH (ref:FactRef {id: r.id})
WITH r, ref, coalesce(ref.doc_len, 0) AS len
DELETE r, ref
WITH count(*) AS deleted, count(ref) AS refs, sum(len) AS terms
OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
SET v.fact_docs = v.fact_docs - refs, v.fact_terms = v.fact_terms - terms
RETURN deleted
