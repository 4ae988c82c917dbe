// (:Episode)-[:MENTIONS]->(:Entity) provenance links, both ends in the partition.
// Parameters: $partition, $rows: LIST<MAP> with episode_id, entity_id.
UNWIND $rows AS row
MATCH (ep:Episode {id: row.episode_id})
WHERE ep.partition = $partition
MATCH (e:Entity {id: row.entity_id})
WHERE e.partition = $partition
MERGE (ep)-[:MENTIONS]->(e)
RETURN count(*) AS linked
