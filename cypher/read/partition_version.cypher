// The partition's write counter (no row, read as 0, before its first graph write): Memory
// reads it before planning an add, and the add's transaction refuses the batch when it has
// moved since. Parameters: $partition.
MATCH (v:PartitionVersion {partition: $partition})
RETURN v.version AS version
