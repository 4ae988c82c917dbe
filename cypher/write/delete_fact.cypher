// Remove one fact for good, with its registry node; `deleted` is 1 when the fact existed
// in the partition. Parameters: $partition, $id.
MATCH (ref:FactRef {id: $id})
WHERE ref.partition = $partition
OPTIONAL MATCH (:Entity {id: ref.source_id})-[r]->(:Entity)
WHERE r.id = $id AND r.partition = $partition
WITH ref, r, r IS NOT NULL AS existed, coalesce(ref.doc_len, 0) AS len
DELETE r, ref
WITH sum(CASE WHEN existed THEN 1 ELSE 0 END) AS deleted, count(*) AS refs, sum(len) AS terms
OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
SET v.fact_docs = v.fact_docs - refs, v.fact_terms = v.fact_terms - terms
RETURN deleted
