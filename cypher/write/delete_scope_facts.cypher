// Remove the scope's facts (narrowed by agent/run when given) with their registry nodes;
// returns how many facts. Parameters: $partition, $agent_id (STRING|null), $run_id (STRING|null).
MATCH (:Entity {partition: $partition})-[r]->(:Entity)
WHERE r.partition = $partition
  AND ($agent_id IS NULL OR r.agent_id = $agent_id)
  AND ($run_id IS NULL OR r.run_id = $run_id)
OPTIONAL MATCH (ref:FactRef {id: r.id})
DELETE r, ref
RETURN count(*) AS deleted
