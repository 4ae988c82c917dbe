// The first reads of planning an add, in one round trip: the partition's write counter
// (read/partition_version: no node reads as 0), THEN the entities of $keys
// (read/find_entities_by_key, the same body). Optimistic concurrency needs the version read
// no later than what the plan reads: the subquery runs for the version's row, after it.
// Parameters: $partition, $keys (LIST<STRING>), $alias_queries (LIST<STRING>, one per key).
OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
WITH coalesce(v.version, 0) AS version
CALL () {
  UNWIND CASE WHEN size($keys) > 0 THEN [true] ELSE [] END AS wanted
  CALL () {
    UNWIND $alias_queries AS alias_query
    CALL db.index.fulltext.queryNodes('graphmem_entity_alias', alias_query)
    YIELD node
    RETURN node AS e
    UNION
    MATCH (e:Entity {partition: $partition})
    USING INDEX e:Entity(partition, key)
    WHERE e.key IN $keys
    RETURN e
  }
  WITH e
  WHERE e.partition = $partition
    AND (e.key IN $keys
         OR any(alias_key IN coalesce(e.alias_keys, []) WHERE alias_key IN $keys))
  ORDER BY e.created_at ASC, e.id ASC
  RETURN collect(e {
    .id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at
  }) AS entities
}
RETURN version, entities
