// The first stage of a search in ONE round trip: search_facts_vector, search_facts_text,
// search_episodes_vector (or its exact scan) and search_episodes_text as four CALL subqueries,
// each collected into a list, returned as one row. Each subquery ends in an aggregation
// without grouping keys, so it yields exactly one row (an empty list when nothing matched)
// and never removes the outer row. The bodies are those of the single statements
// read/search_facts_vector.cypher, read/search_facts_text.cypher,
// read/search_episodes_vector.cypher and read/search_episodes_text.cypher, with $limit for the
// text lists' $k (tests/test_cypher_files.py checks they stay the same); see those files for
// the reasoning. Lists keep the order of the ORDER BY that feeds collect().
// A part that is not wanted gets zero input rows (its guard UNWINDs an empty list): no
// procedure is called, nothing is scanned, its list is empty.
// - facts by vector: when $k > 0, through the fact vector index ($fact_fetch > 0) with the
//   exact partition scan as fallback, as in search_facts_vector ($fetch there).
// - facts by text: when $terms is not empty and $limit > 0.
// - episodes by vector: when $fetch is not null (and $k > 0); $fetch > 0 asks the episode
//   vector index for the top $fetch (then the scope's hits, with the exact scan when fewer
//   than $k survive, as in search_episodes_vector); 0 skips the index call (no vector index
//   yet, or a zero vector), so only the exact scan runs, as in search_episodes_vector_scan.
//   The part is nested in an outer guard because its collect() of index hits yields a row
//   (and so the fallback scan) even when the index was not called.
// - episodes by text: when $query is not null (and $limit > 0).
// Returns facts_vector, facts_text: [{fact, relation, source_id, source, target_id, target,
// score}]; episodes_vector, episodes_text: [{episode, score}]; each best first. No vectors.
// Parameters: $partition, $agent_id, $run_id, $include_invalid (BOOLEAN),
//             $vector (LIST<FLOAT>|null when $k = 0), $k (INTEGER >= 0, per vector list),
//             $limit (INTEGER >= 0, per text list), $terms (LIST<STRING>, distinct query
//             tokens for the fact BM25), $query (Lucene query for episodes, or null),
//             $fetch (INTEGER >= 0, or null: no episode vector search),
//             $fact_fetch (INTEGER >= 0: top hits asked of the fact vector index, 0: scan).
CALL () {
  UNWIND CASE WHEN $k > 0 THEN [true] ELSE [] END AS wanted
  CALL () {
    UNWIND CASE WHEN $fact_fetch > 0 THEN [true] ELSE [] END AS indexed
    CALL db.index.vector.queryNodes('graphmem_fact_embedding', $fact_fetch, $vector)
    YIELD node, score
    WHERE node.partition = $partition
      AND ($agent_id IS NULL OR node.agent_id = $agent_id)
      AND ($run_id IS NULL OR node.run_id = $run_id)
      AND ($include_invalid OR (node.invalid_at IS NULL AND node.expired_at IS NULL))
    RETURN collect({ref: node, score: 2.0 * score - 1.0}) AS hits
  }
  CALL (hits) {
    UNWIND CASE WHEN size(hits) < $k THEN [true] ELSE [] END AS exhaustive
    MATCH (candidate:FactRef {partition: $partition})
    WHERE candidate.embedding IS NOT NULL
      AND ($agent_id IS NULL OR candidate.agent_id = $agent_id)
      AND ($run_id IS NULL OR candidate.run_id = $run_id)
      AND ($include_invalid OR (candidate.invalid_at IS NULL AND candidate.expired_at IS NULL))
    RETURN collect({
      ref: candidate,
      score: 2.0 * coalesce(vector.similarity.cosine(candidate.embedding, $vector), 0.5) - 1.0
    }) AS scanned
  }
  UNWIND CASE WHEN size(hits) < $k THEN scanned ELSE hits END AS hit
  WITH hit.ref AS ref, hit.score AS score
  ORDER BY score DESC, ref.id ASC
  LIMIT $k
  MATCH (a:Entity {id: ref.source_id})-[r]->(b:Entity {id: ref.target_id})
  WHERE r.id = ref.id
  WITH a, r, b, score
  ORDER BY score DESC, r.id ASC
  RETURN collect({
    fact: r {
      .id, .partition, .user_id, .agent_id, .run_id, .fact, .episodes, .confidence,
      .invalidated_by, .metadata_json, .memory_id,
      valid_at: r.valid_at.epochSeconds * 1000000 + r.valid_at.microsecond,
      invalid_at: r.invalid_at.epochSeconds * 1000000 + r.invalid_at.microsecond,
      created_at: r.created_at.epochSeconds * 1000000 + r.created_at.microsecond,
      expired_at: r.expired_at.epochSeconds * 1000000 + r.expired_at.microsecond
    },
    relation: type(r), source_id: a.id, source: a.name, target_id: b.id, target: b.name,
    score: score
  }) AS facts_vector
}
CALL () {
  UNWIND CASE WHEN size($terms) > 0 AND $limit > 0 THEN [true] ELSE [] END AS wanted
  MATCH (a:Entity {partition: $partition})-[r]->(b:Entity)
  WHERE r.partition = $partition
    AND ($agent_id IS NULL OR r.agent_id = $agent_id)
    AND ($run_id IS NULL OR r.run_id = $run_id)
    AND ($include_invalid OR (r.invalid_at IS NULL AND r.expired_at IS NULL))
  WITH a, r, b, coalesce(r.terms, []) + coalesce(a.terms, []) + coalesce(b.terms, []) AS doc
  WITH collect({a: a, r: r, b: b, doc: doc}) AS docs
  WITH docs, size(docs) AS n,
       CASE WHEN size(docs) = 0 THEN 1.0
            ELSE toFloat(reduce(total = 0, d IN docs | total + size(d.doc))) / size(docs)
       END AS avgdl
  WITH docs, n, CASE WHEN avgdl > 0 THEN avgdl ELSE 1.0 END AS avgdl,
       [term IN $terms | {term: term, df: size([d IN docs WHERE term IN d.doc])}] AS stats
  UNWIND docs AS d
  WITH d, n, avgdl, [s IN stats WHERE s.df > 0 AND s.term IN d.doc] AS matched
  WHERE size(matched) > 0
  WITH d, reduce(total = 0.0, s IN matched |
         total
         + log(1.0 + (n - s.df + 0.5) / (s.df + 0.5))
         * (size([t IN d.doc WHERE t = s.term]) * 2.2)
         / (size([t IN d.doc WHERE t = s.term]) + 1.2 * (0.25 + 0.75 * size(d.doc) / avgdl))
       ) AS score
  WITH d.a AS a, d.r AS r, d.b AS b, score
  ORDER BY score DESC, r.id ASC
  LIMIT $limit
  RETURN collect({
    fact: r {
      .id, .partition, .user_id, .agent_id, .run_id, .fact, .episodes, .confidence,
      .invalidated_by, .metadata_json, .memory_id,
      valid_at: r.valid_at.epochSeconds * 1000000 + r.valid_at.microsecond,
      invalid_at: r.invalid_at.epochSeconds * 1000000 + r.invalid_at.microsecond,
      created_at: r.created_at.epochSeconds * 1000000 + r.created_at.microsecond,
      expired_at: r.expired_at.epochSeconds * 1000000 + r.expired_at.microsecond
    },
    relation: type(r), source_id: a.id, source: a.name, target_id: b.id, target: b.name,
    score: score
  }) AS facts_text
}
CALL () {
  UNWIND CASE WHEN $fetch IS NOT NULL AND $k > 0 THEN [true] ELSE [] END AS wanted
  CALL () {
    UNWIND CASE WHEN $fetch > 0 THEN [true] ELSE [] END AS indexed
    CALL db.index.vector.queryNodes('graphmem_episode_embedding', $fetch, $vector)
    YIELD node
    WHERE node.partition = $partition
      AND ($agent_id IS NULL OR node.agent_id = $agent_id)
      AND ($run_id IS NULL OR node.run_id = $run_id)
    WITH collect(node) AS hits
    CALL (hits) {
      UNWIND CASE WHEN size(hits) < $k THEN [true] ELSE [] END AS exhaustive
      MATCH (candidate:Episode {partition: $partition})
      WHERE candidate.embedding IS NOT NULL
        AND ($agent_id IS NULL OR candidate.agent_id = $agent_id)
        AND ($run_id IS NULL OR candidate.run_id = $run_id)
      RETURN collect(candidate) AS scanned
    }
    UNWIND CASE WHEN size(hits) < $k THEN scanned ELSE hits END AS ep
    WITH ep, 2.0 * coalesce(vector.similarity.cosine(ep.embedding, $vector), 0.5) - 1.0 AS score
    ORDER BY score DESC, ep.id ASC
    LIMIT $k
    RETURN collect({
      episode: ep {
        .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
        .status, .error, .infer, .metadata_json,
        reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
        created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
      },
      score: score
    }) AS found
  }
  RETURN coalesce(head(collect(found)), []) AS episodes_vector
}
CALL () {
  UNWIND CASE WHEN $query IS NOT NULL AND $limit > 0 THEN [true] ELSE [] END AS wanted
  CALL db.index.fulltext.queryNodes('graphmem_episode_content', $query)
  YIELD node, score
  WHERE node.partition = $partition
    AND ($agent_id IS NULL OR node.agent_id = $agent_id)
    AND ($run_id IS NULL OR node.run_id = $run_id)
  WITH node AS ep, score
  ORDER BY score DESC, ep.id ASC
  LIMIT $limit
  RETURN collect({
    episode: ep {
      .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
      .status, .error, .infer, .metadata_json,
      reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
      created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
    },
    score: score
  }) AS episodes_text
}
RETURN facts_vector, facts_text, episodes_vector, episodes_text
