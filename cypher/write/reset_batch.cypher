// Remove up to $batch graphmem nodes (entities, episodes, fact registry nodes, partition
// version counters) with their
// relationships; the store repeats it until nothing is left. Other nodes are not touched.
// Parameters: $batch (INTEGER).
MATCH (n)
WHERE n:Entity OR n:Episode OR n:FactRef OR n:PartitionVersion
WITH n
LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
