// Create facts as typed relationships (a)-[:RELATION]->(b) between entities of the
// partition, all in one statement whatever their types: the relationship type comes from
// a parameter value through Cypher 5.26 dynamic types, after the store validated it
// against RELATION_PATTERN (UPPER_SNAKE [A-Z0-9_], at most 64 characters). The query text
// is the same for every relation. Each fact also gets its registry node (:FactRef), whose
// uniqueness constraint refuses a fact id used before (the transaction fails whole). The
// store compares `created` with the number of rows and rolls back when an endpoint is
// missing from the partition.
// Parameters: $partition, $rows: LIST<MAP> with source_id, target_id, relation and props
//   (MAP: id, partition, user_id, agent_id, run_id, fact, embedding, valid_at, invalid_at,
//   created_at, expired_at, episodes, confidence, invalidated_by, metadata_json, terms).
UNWIND $rows AS row
MATCH (a:Entity {id: row.source_id})
WHERE a.partition = $partition
MATCH (b:Entity {id: row.target_id})
WHERE b.partition = $partition
CREATE (a)-[r:$(row.relation)]->(b)
SET r = row.props
CREATE (:FactRef {id: row.props.id, partition: $partition, source_id: a.id})
RETURN count(r) AS created
