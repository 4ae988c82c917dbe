// Nearest episodes by cosine similarity, using the episode vector index.
// The index answers top-$fetch over ALL partitions; we keep the scope's hits. If at least
// $k survive they are the scope's true top-$k (any scope episode outside the global top
// $fetch scores below all of them); otherwise the scope is small relative to the database
// and we compute the exact answer over the scope's episodes instead. The index is
// int8-quantized (scores off by up to 0.05): the scope's best $rescore hits by its score
// (2 x k + 20, see search_facts_vector) are re-scored (not every hit: reading each vector property again is the cost), with
// vector.similarity.cosine, which Neo4j normalises to [0, 1] as (1 + cos) / 2, and
// mapped back to the cosine in [-1, 1]. Only scores leave the server, never vectors.
// Parameters: $vector (LIST<FLOAT>), $fetch (INTEGER >= $k), $k, $rescore (INTEGER >= $k),
//             $partition, $agent_id, $run_id.
CALL db.index.vector.queryNodes('graphmem_episode_embedding', $fetch, $vector)
YIELD node, score
WHERE node.partition = $partition
  AND ($agent_id IS NULL OR node.agent_id = $agent_id)
  AND ($run_id IS NULL OR node.run_id = $run_id)
WITH node, score
ORDER BY score DESC, node.id ASC
LIMIT $rescore
WITH collect(node) AS hits
CALL (hits) {
  UNWIND CASE WHEN size(hits) < $k THEN [true] ELSE [] END AS exhaustive
  MATCH (candidate:Episode {partition: $partition})
  WHERE candidate.embedding IS NOT NULL
    AND ($agent_id IS NULL OR candidate.agent_id = $agent_id)
    AND ($run_id IS NULL OR candidate.run_id = $run_id)
  RETURN collect(candidate) AS scanned
}
UNWIND CASE WHEN size(hits) < $k THEN scanned ELSE hits END AS ep
WITH ep, 2.0 * coalesce(vector.similarity.cosine(ep.embedding, $vector), 0.5) - 1.0 AS score
ORDER BY score DESC, ep.id ASC
LIMIT $k
RETURN ep {
  .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
  .status, .error, .infer, .metadata_json,
  reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
  created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
} AS episode, score
