// Exact cosine similarity over the scope's episodes (no vector index yet: setup() not run,
// or a zero query vector the index cannot take). Scores mapped from [0, 1] back to [-1, 1].
// Parameters: $vector (LIST<FLOAT>), $k, $partition, $agent_id, $run_id.
MATCH (ep:Episode {partition: $partition})
WHERE ep.embedding IS NOT NULL
  AND ($agent_id IS NULL OR ep.agent_id = $agent_id)
  AND ($run_id IS NULL OR ep.run_id = $run_id)
WITH ep, 2.0 * coalesce(vector.similarity.cosine(ep.embedding, $vector), 0.5) - 1.0 AS score
ORDER BY score DESC, ep.id ASC
LIMIT $k
RETURN ep {
  .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
  .status, .error, .infer, .metadata_json,
  reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
  created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
} AS episode, score
