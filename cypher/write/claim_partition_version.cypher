// The first statement of a write transaction that plans on the partition's version: it
// takes the counter node's write lock BEFORE reading the version (Neo4j's documented way to
// avoid lost updates under read-committed isolation: write a property, then read), so two
// concurrent writers of one partition are serialised here and the second one reads the
// first one's committed bump. Returns the version the transaction found; the store refuses
// the batch (ConflictError, rollback) when it is not the one the batch was planned against,
// and the counter moves on by $bump (1 for writes that change what planning reads: entities,
// facts, invalidations, deletes; 0 otherwise).
// Parameters: $partition, $bump (0 or 1).
MERGE (v:PartitionVersion {partition: $partition})
ON CREATE SET v.version = 0
SET v.locked = true
WITH v, v.version AS version
SET v.version = version + $bump
REMOVE v.locked
RETURN version
