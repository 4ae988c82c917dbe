// One entity per partition (a user's graph) and normalised key.
// Composite property uniqueness constraint: Neo4j 5 Community (NODE KEY would be Enterprise-only).
CREATE CONSTRAINT graphmem_entity_partition_key IF NOT EXISTS
FOR (e:Entity) REQUIRE (e.partition, e.key) IS UNIQUE
