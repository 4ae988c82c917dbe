// Entity linking for a search in ONE round trip: find_entities_by_key and
// search_entities_vector (or its exact scan) as two CALL subqueries, each collected into a
// list, returned as one row. Each subquery ends in an aggregation without grouping keys, so it
// yields exactly one row (an empty list when nothing matched) and never removes the outer row.
// The bodies are those of read/find_entities_by_key.cypher and read/search_entities_vector.cypher
// (tests/test_cypher_files.py checks they stay the same); see those files for the reasoning.
// Lists keep the order of the ORDER BY that feeds collect().
// The index/scan choice of the single methods is $fetch: > 0 asks the entity vector index for
// the top $fetch (then the partition's hits, with the exact scan when fewer than $k survive,
// as in search_entities_vector); 0 skips the index call (no vector index yet, a zero vector,
// or $k = 0), so only the exact scan runs, as in search_entities_vector_scan (no scan when
// $k = 0). Skipped parts get zero input rows: the procedure is not called, nothing is scanned.
// Returns by_key: [{entity}] ordered by (created_at, id); near: [{entity, score}] best first.
// Parameters: $partition, $keys (LIST<STRING>, normalised keys; [] skips the look-up),
//             $alias_queries (LIST<STRING>: the Lucene query of each key's alias term),
//             $vector (LIST<FLOAT>|null when $k = 0), $k (INTEGER >= 0), $fetch (INTEGER >= 0),
//             $rescore (INTEGER >= $k: index hits re-scored exactly).
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
  RETURN collect({
    entity: e {.id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at}
  }) AS by_key
}
CALL () {
  UNWIND CASE WHEN $fetch > 0 THEN [true] ELSE [] END AS indexed
  CALL db.index.vector.queryNodes('graphmem_entity_embedding', $fetch, $vector)
  YIELD node, score
  WHERE node.partition = $partition
  WITH node, score
  ORDER BY score DESC, node.id ASC
  LIMIT $rescore
  WITH collect(node) AS hits
  CALL (hits) {
    UNWIND CASE WHEN size(hits) < $k THEN [true] ELSE [] END AS exhaustive
    MATCH (candidate:Entity {partition: $partition})
    WHERE candidate.embedding IS NOT NULL
    RETURN collect(candidate) AS scanned
  }
  UNWIND CASE WHEN size(hits) < $k THEN scanned ELSE hits END AS e
  WITH e, 2.0 * coalesce(vector.similarity.cosine(e.embedding, $vector), 0.5) - 1.0 AS score
  ORDER BY score DESC, e.id ASC
  LIMIT $k
  RETURN collect({
    entity: e {.id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at},
    score: score
  }) AS near
}
RETURN by_key, near
