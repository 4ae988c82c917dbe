// Ids of the newest $limit items in scope (created_at, then id, descending) whose metadata
// passes $clauses: Mem0's filter in disjunctive normal form (see
// graphmem.store.metadata_filter.neo4j_param; null for no filter): any clause whose every
// condition holds. A condition names the property "m.<key>" (the key validated by the store)
// read with x[c.prop]; every value is a parameter. A missing key makes a condition false
// (so its negation true); comparing values of different types is false.
// $facts: facts (current only unless $include_invalid), else episodes (only those stored
// with infer = false when $raw_only).
// Parameters: $partition, $agent_id, $run_id, $facts, $raw_only, $include_invalid, $limit,
//   $clauses.
CALL () {
  MATCH (:Entity {partition: $partition})-[r]->(:Entity)
  WHERE $facts AND r.partition = $partition
    AND ($agent_id IS NULL OR r.agent_id = $agent_id)
    AND ($run_id IS NULL OR r.run_id = $run_id)
    AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
  RETURN r AS x
  UNION ALL
  MATCH (ep:Episode {partition: $partition})
  WHERE NOT $facts
    AND ($agent_id IS NULL OR ep.agent_id = $agent_id)
    AND ($run_id IS NULL OR ep.run_id = $run_id)
    AND (NOT $raw_only OR ep.infer = false)
  RETURN ep AS x
}
WITH x
WHERE $clauses IS NULL OR any(clause IN $clauses WHERE all(c IN clause WHERE
  c.negate <> coalesce(CASE
    WHEN c.exists THEN x[c.prop] IS NOT NULL
    WHEN c.eq IS NOT NULL THEN x[c.prop] = c.eq
    WHEN c.ne IS NOT NULL THEN NOT coalesce(x[c.prop] = c.ne, false)
    WHEN c.in IS NOT NULL THEN x[c.prop] IN c.in
    WHEN c.nin IS NOT NULL THEN NOT coalesce(x[c.prop] IN c.nin, false)
    WHEN c.gt IS NOT NULL THEN x[c.prop] > c.gt
    WHEN c.gte IS NOT NULL THEN x[c.prop] >= c.gte
    WHEN c.lt IS NOT NULL THEN x[c.prop] < c.lt
    WHEN c.lte IS NOT NULL THEN x[c.prop] <= c.lte
    WHEN c.contains IS NOT NULL THEN x[c.prop] IS :: STRING AND x[c.prop] CONTAINS c.contains
    WHEN c.icontains IS NOT NULL
      THEN x[c.prop] IS :: STRING AND toLower(x[c.prop]) CONTAINS c.icontains
  END, false)))
RETURN x.id AS id
ORDER BY x.created_at DESC, id DESC
LIMIT $limit
