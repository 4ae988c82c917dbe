// The partition holding an episode (message) id, or no row. Parameters: $id (STRING).
MATCH (ep:Episode {id: $id})
RETURN ep.partition AS partition
LIMIT 1
