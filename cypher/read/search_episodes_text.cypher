// Full-text (Lucene BM25) search over episode content, confined to the scope.
// queryNodes returns every match, best first, across partitions; the WHERE keeps the
// scope's and LIMIT applies after it, so the result is exact for the scope.
// Parameters: $query (Lucene query built by the store from plain word tokens),
//             $partition, $agent_id, $run_id, $k (INTEGER).
CALL db.index.fulltext.queryNodes('graphmem_episode_content', $query)
YIELD node, score
WHERE node.partition = $partition
  AND ($agent_id IS NULL OR node.agent_id = $agent_id)
  AND ($run_id IS NULL OR node.run_id = $run_id)
WITH node AS ep, score
ORDER BY score DESC, ep.id ASC
LIMIT $k
RETURN ep {
  .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
  .status, .error, .infer, .metadata_json,
  reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
  created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
} AS episode, score
