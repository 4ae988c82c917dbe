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
  .reference_time, .created_at, .status, .error, .infer, .metadata_json
} AS episode, score
