// Episodes in scope, newest first: (reference_time, created_at, id) descending.
// Parameters: $partition, $agent_id (STRING|null), $run_id (STRING|null),
//             $status (STRING|null), $limit (INTEGER).
MATCH (ep:Episode {partition: $partition})
WHERE ($agent_id IS NULL OR ep.agent_id = $agent_id)
  AND ($run_id IS NULL OR ep.run_id = $run_id)
  AND ($status IS NULL OR ep.status = $status)
WITH ep
ORDER BY ep.reference_time DESC, ep.created_at DESC, ep.id DESC
LIMIT $limit
RETURN ep {
  .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
  .status, .error, .infer, .metadata_json,
  reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
  created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
} AS episode
