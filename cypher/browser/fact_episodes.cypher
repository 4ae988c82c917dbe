// Which episodes (messages) a fact came from, in the order they were said.
// Parameters:
//   :param partition => 'u:alice'
//   :param fact_id => '<fact id>'
MATCH (ref:FactRef {id: $fact_id})
WHERE ref.partition = $partition
MATCH (:Entity {id: ref.source_id})-[f]->(:Entity)
WHERE f.id = $fact_id
UNWIND coalesce(f.episodes, []) AS episode_id
MATCH (ep:Episode {id: episode_id})
WHERE ep.partition = $partition
RETURN f.fact AS fact,
       ep.id AS episode_id,
       ep.role AS role,
       ep.name AS speaker,
       ep.reference_time AS said_at,
       ep.content AS content
ORDER BY ep.reference_time ASC, ep.created_at ASC
