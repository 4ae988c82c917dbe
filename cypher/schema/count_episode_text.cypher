// Every partition's message BM25 counters counted afresh (after the one-time backfill):
// messages (PartitionVersion.episode_docs) and their total document length
// (.episode_terms). The fact counterpart is schema/count_fact_text.
MATCH (ep:Episode)
WITH ep.partition AS partition, count(*) AS docs, sum(coalesce(ep.doc_len, 0)) AS terms
MERGE (v:PartitionVersion {partition: partition})
ON CREATE SET v.version = 0
SET v.episode_docs = docs, v.episode_terms = terms
RETURN count(v) AS counted
