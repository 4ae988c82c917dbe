// Remove a whole partition's entities (only when the scope is not narrowed).
// Parameters: $partition.
MATCH (e:Entity {partition: $partition})
DETACH DELETE e
RETURN count(*) AS deleted
