// k-hop expansion, either direction, with bounded fan-out: up to 4 hops in ONE query.
// From the frontier entities, each hop follows at most $fanout facts per frontier entity
// that were not found before: the most similar to $vector when given (cosine, mapped from
// Neo4j's (1 + cos) / 2 back to [-1, 1]), else the newest (created_at); ties by id. A fact
// may be chosen by both its ends. Entities reached for the first time form the next
// frontier; with $beam only that many of them, those reached by the most similar fact (ties
// by entity id). Hops are unrolled (Cypher has no loop); a hop beyond $hops gets an empty
// frontier and costs nothing. RetrievalConfig.hops is at most 4, so a search is one round
// trip; for more hops the store calls this again, in the same read transaction, with the
// returned frontier/visited/found state (a walk that stops growing ends early).
// Returns one row: the facts found by this call (with their similarity, 0.0 without a
// vector; unordered, the store sorts), the next frontier and every visited entity id.
// Parameters: $partition, $frontier_ids, $visited_ids, $found_ids (LIST<STRING>),
//             $hops (1..4), $fanout (INTEGER), $beam (INTEGER|null), $vector (LIST<FLOAT>|null),
//             $agent_id, $run_id, $include_invalid (BOOLEAN).
MATCH (seed:Entity)
WHERE seed.id IN $frontier_ids AND seed.partition = $partition
WITH collect(DISTINCT seed) AS frontier
WITH frontier, $visited_ids AS visited, [] AS found, $found_ids AS found_ids
// hop 1
CALL (frontier, found_ids) {
  UNWIND CASE WHEN $hops >= 1 THEN frontier ELSE [] END AS e
  CALL (e, found_ids) {
    MATCH (e)-[r]-(o:Entity)
    WHERE r.partition = $partition
      AND o.partition = $partition
      AND NOT r.id IN found_ids
      AND ($agent_id IS NULL OR r.agent_id = $agent_id)
      AND ($run_id IS NULL OR r.run_id = $run_id)
      AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
    WITH r, o,
         CASE WHEN $vector IS NULL OR r.embedding IS NULL THEN 0.0
              ELSE 2.0 * coalesce(vector.similarity.cosine(r.embedding, $vector), 0.5) - 1.0
         END AS score
    ORDER BY score DESC,
             CASE WHEN $vector IS NULL THEN r.created_at ELSE null END DESC,
             r.id ASC
    LIMIT $fanout
    RETURN r, o, score
  }
  RETURN collect(DISTINCT {r: r, score: score}) AS hop_found,
         collect({o: o, score: score}) AS reached
}
CALL (reached, visited) {
  UNWIND reached AS x
  WITH x.o AS o, max(x.score) AS best
  WHERE NOT o.id IN visited
  ORDER BY best DESC, o.id ASC
  LIMIT coalesce($beam, 1000000000)
  RETURN collect(o) AS next_frontier
}
WITH visited,
     found + hop_found AS found,
     found_ids + [h IN hop_found | h.r.id] AS found_ids,
     next_frontier AS frontier
WITH found, found_ids, frontier, visited + [n IN frontier | n.id] AS visited
// hop 2
CALL (frontier, found_ids) {
  UNWIND CASE WHEN $hops >= 2 THEN frontier ELSE [] END AS e
  CALL (e, found_ids) {
    MATCH (e)-[r]-(o:Entity)
    WHERE r.partition = $partition
      AND o.partition = $partition
      AND NOT r.id IN found_ids
      AND ($agent_id IS NULL OR r.agent_id = $agent_id)
      AND ($run_id IS NULL OR r.run_id = $run_id)
      AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
    WITH r, o,
         CASE WHEN $vector IS NULL OR r.embedding IS NULL THEN 0.0
              ELSE 2.0 * coalesce(vector.similarity.cosine(r.embedding, $vector), 0.5) - 1.0
         END AS score
    ORDER BY score DESC,
             CASE WHEN $vector IS NULL THEN r.created_at ELSE null END DESC,
             r.id ASC
    LIMIT $fanout
    RETURN r, o, score
  }
  RETURN collect(DISTINCT {r: r, score: score}) AS hop_found,
         collect({o: o, score: score}) AS reached
}
CALL (reached, visited) {
  UNWIND reached AS x
  WITH x.o AS o, max(x.score) AS best
  WHERE NOT o.id IN visited
  ORDER BY best DESC, o.id ASC
  LIMIT coalesce($beam, 1000000000)
  RETURN collect(o) AS next_frontier
}
WITH visited,
     found + hop_found AS found,
     found_ids + [h IN hop_found | h.r.id] AS found_ids,
     next_frontier AS frontier
WITH found, found_ids, frontier, visited + [n IN frontier | n.id] AS visited
// hop 3
CALL (frontier, found_ids) {
  UNWIND CASE WHEN $hops >= 3 THEN frontier ELSE [] END AS e
  CALL (e, found_ids) {
    MATCH (e)-[r]-(o:Entity)
    WHERE r.partition = $partition
      AND o.partition = $partition
      AND NOT r.id IN found_ids
      AND ($agent_id IS NULL OR r.agent_id = $agent_id)
      AND ($run_id IS NULL OR r.run_id = $run_id)
      AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
    WITH r, o,
         CASE WHEN $vector IS NULL OR r.embedding IS NULL THEN 0.0
              ELSE 2.0 * coalesce(vector.similarity.cosine(r.embedding, $vector), 0.5) - 1.0
         END AS score
    ORDER BY score DESC,
             CASE WHEN $vector IS NULL THEN r.created_at ELSE null END DESC,
             r.id ASC
    LIMIT $fanout
    RETURN r, o, score
  }
  RETURN collect(DISTINCT {r: r, score: score}) AS hop_found,
         collect({o: o, score: score}) AS reached
}
CALL (reached, visited) {
  UNWIND reached AS x
  WITH x.o AS o, max(x.score) AS best
  WHERE NOT o.id IN visited
  ORDER BY best DESC, o.id ASC
  LIMIT coalesce($beam, 1000000000)
  RETURN collect(o) AS next_frontier
}
WITH visited,
     found + hop_found AS found,
     found_ids + [h IN hop_found | h.r.id] AS found_ids,
     next_frontier AS frontier
WITH found, found_ids, frontier, visited + [n IN frontier | n.id] AS visited
// hop 4
CALL (frontier, found_ids) {
  UNWIND CASE WHEN $hops >= 4 THEN frontier ELSE [] END AS e
  CALL (e, found_ids) {
    MATCH (e)-[r]-(o:Entity)
    WHERE r.partition = $partition
      AND o.partition = $partition
      AND NOT r.id IN found_ids
      AND ($agent_id IS NULL OR r.agent_id = $agent_id)
      AND ($run_id IS NULL OR r.run_id = $run_id)
      AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
    WITH r, o,
         CASE WHEN $vector IS NULL OR r.embedding IS NULL THEN 0.0
              ELSE 2.0 * coalesce(vector.similarity.cosine(r.embedding, $vector), 0.5) - 1.0
         END AS score
    ORDER BY score DESC,
             CASE WHEN $vector IS NULL THEN r.created_at ELSE null END DESC,
             r.id ASC
    LIMIT $fanout
    RETURN r, o, score
  }
  RETURN collect(DISTINCT {r: r, score: score}) AS hop_found,
         collect({o: o, score: score}) AS reached
}
CALL (reached, visited) {
  UNWIND reached AS x
  WITH x.o AS o, max(x.score) AS best
  WHERE NOT o.id IN visited
  ORDER BY best DESC, o.id ASC
  LIMIT coalesce($beam, 1000000000)
  RETURN collect(o) AS next_frontier
}
WITH visited,
     found + hop_found AS found,
     found_ids + [h IN hop_found | h.r.id] AS found_ids,
     next_frontier AS frontier
WITH found, found_ids, frontier, visited + [n IN frontier | n.id] AS visited
CALL (found) {
  UNWIND found AS hit
  WITH hit.r AS r, hit.score AS score
  WITH startNode(r) AS a, r, endNode(r) AS b, score
  RETURN collect({
    fact: r {
      .id, .partition, .user_id, .agent_id, .run_id, .fact, .episodes, .confidence,
      .invalidated_by, .metadata_json, .memory_id,
      valid_at: r.valid_at.epochSeconds * 1000000 + r.valid_at.microsecond,
      invalid_at: r.invalid_at.epochSeconds * 1000000 + r.invalid_at.microsecond,
      created_at: r.created_at.epochSeconds * 1000000 + r.created_at.microsecond,
      expired_at: r.expired_at.epochSeconds * 1000000 + r.expired_at.microsecond
    },
    relation: type(r),
    source_id: a.id,
    source: a.name,
    target_id: b.id,
    target: b.name,
    score: score
  }) AS facts
}
RETURN facts, [n IN frontier | n.id] AS frontier_ids, visited AS visited_ids
