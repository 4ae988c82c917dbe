// One version counter node per partition (a user's graph): the optimistic-concurrency counter
// of GraphStore.partition_version. The constraint backs the MERGE that creates it, so two
// first writers of a partition cannot both create one.
CREATE CONSTRAINT graphmem_partition_version IF NOT EXISTS
FOR (v:PartitionVersion) REQUIRE v.partition IS UNIQUE
