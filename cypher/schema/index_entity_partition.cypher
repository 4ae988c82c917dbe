// Range index: every fact read starts from the partition's entities, so this is the
// anchor of all partition-confined scans (facts are relationships between them).
CREATE INDEX graphmem_entity_partition IF NOT EXISTS
FOR (e:Entity) ON (e.partition)
