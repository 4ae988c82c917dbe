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
// - episodes by text: when $episode_terms is not empty and $limit > 0 (the query of the
//   message part may differ from the facts', so its tokens are parameters of their own).
// Returns facts_vector, facts_text: [{fact, relation, source_id, source, target_id, target,
// score}]; episodes_vector, episodes_text: [{episode, score}]; each best first. No vectors.
// Parameters: $partition, $agent_id, $run_id, $include_invalid (BOOLEAN),
//             $vector (LIST<FLOAT>|null when $k = 0), $k (INTEGER >= 0, per vector list),
//             $limit (INTEGER >= 0, per text list), $terms (LIST<STRING>, distinct query
//             tokens for the fact BM25), $term_queries (LIST<STRING>, their Lucene queries),
//             $prune_from, $rare_share (the BM25's pruning rule), $sep (the token
//             separator of `text`, one space),
//             $episode_terms, $episode_term_queries (the same for the message BM25: the
//             tokens of the episode query, empty when messages are not searched),
//             $fetch (INTEGER >= 0, or null: no episode vector search),
//             $fact_fetch (INTEGER >= 0: top hits asked of the fact vector index, 0: scan),
//             $max_fetch (INTEGER: the most hits asked of the fact vector index),
//             $rescore (INTEGER >= $k: index hits re-scored exactly, facts and episodes).
CALL () {
  UNWIND CASE WHEN $k > 0 THEN [true] ELSE [] END AS wanted
  CALL () {
    UNWIND CASE WHEN $fact_fetch > 0 THEN [true] ELSE [] END AS indexed
    CALL () {
      MATCH (every:FactRef)
      RETURN count(every) AS total
    }
    OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
    WITH total, coalesce(v.fact_docs, 0) AS own
    WITH CASE WHEN own > 0 AND $fact_fetch * own < 2 * $k * total
              THEN toInteger(ceil(2.0 * $k * total / own)) ELSE $fact_fetch END AS wanted
    UNWIND CASE WHEN wanted <= $max_fetch THEN [wanted] ELSE [] END AS fetch
    CALL db.index.vector.queryNodes('graphmem_fact_embedding', fetch, $vector)
    YIELD node, score
    WHERE node.partition = $partition
      AND ($agent_id IS NULL OR node.agent_id = $agent_id)
      AND ($run_id IS NULL OR node.run_id = $run_id)
      AND ($include_invalid OR (node.invalid_at IS NULL AND node.expired_at IS NULL))
    WITH node, score
    ORDER BY score DESC, node.id ASC
    LIMIT $rescore
    RETURN collect({
      ref: node,
      score: 2.0 * coalesce(vector.similarity.cosine(node.embedding, $vector), 0.5) - 1.0
    }) AS hits
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
  OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
  WITH coalesce(v.fact_docs, 0) AS n, coalesce(v.fact_terms, 0) AS total
  WITH n, CASE WHEN n > 0 AND total > 0 THEN toFloat(total) / n ELSE 1.0 END AS avgdl,
       n >= $prune_from AS prune,
       CASE WHEN ceil($rare_share * n) >= 1 THEN toInteger(ceil($rare_share * n)) ELSE 1 END
         AS rare_cap,
       CASE WHEN n >= 2 THEN toInteger(ceil(n / 2.0)) ELSE 1 END AS half
  CALL (prune, rare_cap) {
    UNWIND CASE WHEN prune THEN range(0, size($terms) - 1) ELSE [] END AS i
    CALL (i, rare_cap) {
      CALL db.index.fulltext.queryNodes('graphmem_fact_text', $term_queries[i], {limit: rare_cap})
      YIELD node
      RETURN count(node) AS held
    }
    RETURN collect({i: i, held: held}) AS first
  }
  WITH n, avgdl, prune, half, first, [c IN first WHERE 0 < c.held < rare_cap | c.i] AS rare,
       rare_cap
  CALL (prune, rare, first, rare_cap, half) {
    UNWIND CASE WHEN prune AND size(rare) = 0 THEN first ELSE [] END AS c
    CALL (c, rare_cap, half) {
      UNWIND CASE WHEN c.held >= rare_cap THEN [true] ELSE [] END AS common
      CALL db.index.fulltext.queryNodes('graphmem_fact_text', $term_queries[c.i], {limit: half})
      YIELD node
      RETURN count(node) AS held
    }
    RETURN collect({i: c.i, held: CASE WHEN c.held >= rare_cap THEN held ELSE c.held END})
      AS second
  }
  WITH n, avgdl, [c IN second WHERE c.held > 0] AS present,
       CASE WHEN NOT prune THEN range(0, size($terms) - 1)
            WHEN size(rare) > 0 THEN rare
            ELSE [c IN second WHERE 0 < c.held < half | c.i]
       END AS kept
  WITH n, avgdl,
       CASE WHEN size(kept) > 0 OR size(present) = 0 THEN kept
            ELSE [reduce(best = head(present), c IN present |
                    CASE WHEN c.held < best.held
                           OR (c.held = best.held AND $terms[c.i] < $terms[best.i])
                         THEN c ELSE best END).i]
       END AS kept
  UNWIND kept AS i
  CALL (i) {
    CALL db.index.fulltext.queryNodes('graphmem_fact_text', $term_queries[i])
    YIELD node
    WHERE node.partition = $partition
    RETURN collect(node) AS hits
  }
  WITH n, avgdl, i, size(hits) AS df, hits
  WITH avgdl, i, hits,
       CASE WHEN log((n - df + 0.5) / (df + 0.5)) > 0
            THEN log((n - df + 0.5) / (df + 0.5)) ELSE 0.000001 END AS idf
  UNWIND hits AS ref
  WITH avgdl, i, idf, ref
  ORDER BY ref.id ASC, i ASC
  WITH avgdl, ref, collect({term: $terms[i], idf: idf}) AS stats
  WHERE ($agent_id IS NULL OR ref.agent_id = $agent_id)
    AND ($run_id IS NULL OR ref.run_id = $run_id)
    AND ($include_invalid OR (ref.invalid_at IS NULL AND ref.expired_at IS NULL))
  WITH ref, avgdl, stats, coalesce(ref.doc_len, 0) AS len,
       $sep + replace(coalesce(ref.text, $sep), $sep, $sep + $sep) + $sep AS padded
  WITH ref, avgdl, len,
       [s IN stats | {
         idf: s.idf,
         tf: (size(padded) - size(replace(padded, $sep + s.term + $sep, $sep))) / (size(s.term) + 1)
       }] AS held
  WITH ref, reduce(total = 0.0, h IN held |
         total + h.idf * (h.tf * 2.2) / (h.tf + 1.2 * (1.0 - 0.75 + 0.75 * len / avgdl))
       ) AS score
  ORDER BY score DESC, ref.id ASC
  LIMIT $limit
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
  }) AS facts_text
}
CALL () {
  UNWIND CASE WHEN $fetch IS NOT NULL AND $k > 0 THEN [true] ELSE [] END AS wanted
  CALL () {
    UNWIND CASE WHEN $fetch > 0 THEN [true] ELSE [] END AS indexed
    CALL db.index.vector.queryNodes('graphmem_episode_embedding', $fetch, $vector)
    YIELD node, score
    WHERE node.partition = $partition
      AND ($agent_id IS NULL OR node.agent_id = $agent_id)
      AND ($run_id IS NULL OR node.run_id = $run_id)
    WITH node, score
    ORDER BY score DESC, node.id ASC
    LIMIT $rescore
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
  UNWIND CASE WHEN size($episode_terms) > 0 AND $limit > 0 THEN [true] ELSE [] END AS wanted
  OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
  WITH coalesce(v.episode_docs, 0) AS n, coalesce(v.episode_terms, 0) AS total
  WITH n, CASE WHEN n > 0 AND total > 0 THEN toFloat(total) / n ELSE 1.0 END AS avgdl,
       n >= $prune_from AS prune,
       CASE WHEN ceil($rare_share * n) >= 1 THEN toInteger(ceil($rare_share * n)) ELSE 1 END
         AS rare_cap,
       CASE WHEN n >= 2 THEN toInteger(ceil(n / 2.0)) ELSE 1 END AS half
  CALL (prune, rare_cap) {
    UNWIND CASE WHEN prune THEN range(0, size($episode_terms) - 1) ELSE [] END AS i
    CALL (i, rare_cap) {
      CALL db.index.fulltext.queryNodes('graphmem_episode_text', $episode_term_queries[i], {limit: rare_cap})
      YIELD node
      RETURN count(node) AS held
    }
    RETURN collect({i: i, held: held}) AS first
  }
  WITH n, avgdl, prune, half, first, [c IN first WHERE 0 < c.held < rare_cap | c.i] AS rare,
       rare_cap
  CALL (prune, rare, first, rare_cap, half) {
    UNWIND CASE WHEN prune AND size(rare) = 0 THEN first ELSE [] END AS c
    CALL (c, rare_cap, half) {
      UNWIND CASE WHEN c.held >= rare_cap THEN [true] ELSE [] END AS common
      CALL db.index.fulltext.queryNodes('graphmem_episode_text', $episode_term_queries[c.i], {limit: half})
      YIELD node
      RETURN count(node) AS held
    }
    RETURN collect({i: c.i, held: CASE WHEN c.held >= rare_cap THEN held ELSE c.held END})
      AS second
  }
  WITH n, avgdl, [c IN second WHERE c.held > 0] AS present,
       CASE WHEN NOT prune THEN range(0, size($episode_terms) - 1)
            WHEN size(rare) > 0 THEN rare
            ELSE [c IN second WHERE 0 < c.held < half | c.i]
       END AS kept
  WITH n, avgdl,
       CASE WHEN size(kept) > 0 OR size(present) = 0 THEN kept
            ELSE [reduce(best = head(present), c IN present |
                    CASE WHEN c.held < best.held
                           OR (c.held = best.held AND $episode_terms[c.i] < $episode_terms[best.i])
                         THEN c ELSE best END).i]
       END AS kept
  UNWIND kept AS i
  CALL (i) {
    CALL db.index.fulltext.queryNodes('graphmem_episode_text', $episode_term_queries[i])
    YIELD node
    WHERE node.partition = $partition
    RETURN collect(node) AS hits
  }
  WITH n, avgdl, i, size(hits) AS df, hits
  WITH avgdl, i, hits,
       CASE WHEN log((n - df + 0.5) / (df + 0.5)) > 0
            THEN log((n - df + 0.5) / (df + 0.5)) ELSE 0.000001 END AS idf
  UNWIND hits AS ep
  WITH avgdl, i, idf, ep
  ORDER BY ep.id ASC, i ASC
  WITH avgdl, ep, collect({term: $episode_terms[i], idf: idf}) AS stats
  WHERE ($agent_id IS NULL OR ep.agent_id = $agent_id)
    AND ($run_id IS NULL OR ep.run_id = $run_id)
  WITH ep, avgdl, stats, coalesce(ep.doc_len, 0) AS len,
       $sep + replace(coalesce(ep.text, $sep), $sep, $sep + $sep) + $sep AS padded
  WITH ep, avgdl, len,
       [s IN stats | {
         idf: s.idf,
         tf: (size(padded) - size(replace(padded, $sep + s.term + $sep, $sep))) / (size(s.term) + 1)
       }] AS held
  WITH ep, reduce(total = 0.0, h IN held |
         total + h.idf * (h.tf * 2.2) / (h.tf + 1.2 * (1.0 - 0.75 + 0.75 * len / avgdl))
       ) AS score
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
