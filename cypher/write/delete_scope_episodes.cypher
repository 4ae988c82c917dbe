// Remove the scope's episodes and their MENTIONS links.
// Parameters: $partition, $agent_id (STRING|null), $run_id (STRING|null).
MATCH (ep:Episode {partition: $partition})
WHERE ($agent_id IS NULL OR ep.agent_id = $agent_id)
  AND ($run_id IS NULL OR ep.run_id = $run_id)
DETACH DELETE ep
RETURN count(*) AS deleted
