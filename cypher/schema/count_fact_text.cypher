// Every partition's fact BM25 counters counted afresh (after the one-time backfill): facts
// (PartitionVersion.fact_docs) and their total document length (.fact_terms).
MATCH (ref:FactRef)
WITH ref.partition AS partition, count(*) AS docs, sum(coalesce(ref.doc_len, 0)) AS terms
MERGE (v:PartitionVersion {partition: partition})
ON CREATE SET v.version = 0
SET v.fact_docs = docs, v.fact_terms = terms
RETURN count(v) AS counted
