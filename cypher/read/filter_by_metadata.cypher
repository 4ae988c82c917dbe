// Ids of the newest $limit items in scope (created_at, then id, descending) whose metadata
// passes $clauses: Mem0's filter in disjunctive normal form (see
// graphmem.store.metadata_filter.neo4j_param; null for no filter): any clause whose every
// condition holds. A condition names the property "m.<key>" (the key validated by the store)
// read with x[c.prop]; every value is a parameter. A missing key makes a condition false
// (so its negation true); comparing values of different types is false.
// $kind: 'facts' (current only unless $include_invalid), 'episodes', or 'raw' (episodes
// stored with infer = false).
// Parameters: $partition, $agent_id, $run_id, $kind, $include_invalid, $limit, $clauses.
CALL {
  MATCH (:Entity {partition: $partition})-[r]->(:Entity)
  WHERE $kind = 'facts' AND r.partition = $partition
    AND ($agent_id IS NULL OR r.agent_id = $agent_id)
    AND ($run_id IS NULL OR r.run_id = $run_id)
    AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
  RETURN r AS x
  UNION ALL
  MATCH (ep:Episode {partition: $partition})
  WHERE $kind IN ['episodes', 'raw']
    AND ($agent_id IS NULL OR ep.agent_id = $agent_id)
    AND ($run_id IS NULL OR ep.run_id = $run_id)
    AND ($kind = 'episodes' OR ep.infer = false)
  RETURN ep AS x
}
WITH x
WHERE $clauses IS NULL OR any(clause IN $clauses WHERE all(c IN clause WHERE
  c.negate <> coalesce(CASE c.op
    WHEN 'exists' THEN x[c.prop] IS NOT NULL
    WHEN 'eq' THEN x[c.prop] = c.value
    WHEN 'ne' THEN NOT coalesce(x[c.prop] = c.value, false)
    WHEN 'in' THEN x[c.prop] IN c.values
    WHEN 'nin' THEN NOT coalesce(x[c.prop] IN c.values, false)
    WHEN 'gt' THEN x[c.prop] > c.value
    WHEN 'gte' THEN x[c.prop] >= c.value
    WHEN 'lt' THEN x[c.prop] < c.value
    WHEN 'lte' THEN x[c.prop] <= c.value
    WHEN 'contains' THEN x[c.prop] IS :: STRING AND x[c.prop] CONTAINS c.value
    WHEN 'icontains' THEN x[c.prop] IS :: STRING AND toLower(x[c.prop]) CONTAINS c.value
  END, false)))
RETURN x.id AS id
ORDER BY x.created_at DESC, id DESC
LIMIT $limit
