// Entities whose key, or one of whose aliases' keys, is in $keys. e.alias_keys holds
// normalize_key() of the entity's key and of every alias; $keys are normalised the same
// way by the store. Ordered by (created_at, id), each entity once.
// Found through indexes, never a scan of the partition: the key through the (partition,
// key) uniqueness constraint's index (hinted: with a few hundred entities the planner
// preferred the partition index and a filter, a scan of the partition), aliases through the full-text index
// graphmem_entity_alias (keyword analyzer) over e.alias_terms, which holds one term
// "<partition token> <alias key>" per alias key, so a look-up is one exact term per wanted
// key, inside the partition ($alias_queries: built by the store, fulltext.alias_queries,
// each term quoted with `\` and `"` escaped: a phrase of one term, no Lucene syntax).
// Every hit is checked again against $partition and $keys.
// Parameters: $partition, $keys (LIST<STRING>), $alias_queries (LIST<STRING>, one per key).
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
RETURN e {
  .id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at
} AS entity, null AS embedding
