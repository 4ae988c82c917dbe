// Remove up to $batch of a whole partition's entities (only when the scope is not narrowed).
// Parameters: $partition, $batch (INTEGER).
MATCH (e:Entity {partition: $partition})
WITH e
LIMIT $batch
DETACH DELETE e
RETURN count(*) AS deleted
