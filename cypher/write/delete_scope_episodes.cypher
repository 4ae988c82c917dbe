// Remove up to $batch of the scope's episodes and their MENTIONS links (their vector and full-text entries go
// with the node); the partition's message counters (PartitionVersion.episode_docs and
// .episode_terms) move back by them. The transaction already holds the counter node's lock
// (write/claim_partition_version runs first).
// Parameters: $partition, $agent_id (STRING|null), $run_id (STRING|null), $batch (INTEGER).
MATCH (ep:Episode {partition: $partition})
WHERE ($agent_id IS NULL OR ep.agent_id = $agent_id)
  AND ($run_id IS NULL OR ep.run_id = $run_id)
WITH ep
LIMIT $batch
WITH ep, coalesce(ep.doc_len, 0) AS len
DETACH DELETE ep
WITH count(*) AS deleted, sum(len) AS terms
OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
SET v.episode_docs = v.episode_docs - deleted, v.episode_terms = v.episode_terms - terms
RETURN deleted
