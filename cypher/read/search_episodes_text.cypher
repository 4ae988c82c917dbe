// BM25 over the messages (episodes) of ONE partition: the body of
// read/search_facts_text.cypher (read it for the reasoning) over the message index
// graphmem_episode_text and the partition's message counters (PartitionVersion.episode_docs
// and .episode_terms), so one user's messages never change another user's ranking. A
// message's document is its `doc` (tokens of its content, graphmem.text, as the embedded
// store indexes messages), found through one Lucene query per token,
// `+part:<partition token> +text:"<token>"`, every hit checked against $partition again;
// Lucene's own scores are not used. The same pruning of common tokens in a partition of
// $prune_from messages or more. Statistics count every message of the partition (any agent,
// run or status); $agent_id and $run_id filter which are returned. The body is the facts'
// one with these names (and `ep` for `ref`), less the facts' validity filter:
// tests/test_cypher_files.py checks the two stay the same. Only the tail differs: a fact is
// a relationship read through its registry node, a message is the node itself (Cypher has no
// include, so the shared body lives in both files).
// Parameters: $partition, $agent_id, $run_id,
//             $terms (LIST<STRING>, distinct query tokens), $term_queries (LIST<STRING>,
//             the Lucene query of each token), $prune_from (INTEGER), $rare_share (FLOAT),
//             $sep (STRING, " ": the token separator of `text`), $k (INTEGER).
OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
WITH coalesce(v.episode_docs, 0) AS n, coalesce(v.episode_terms, 0) AS total
WITH n, CASE WHEN n > 0 AND total > 0 THEN toFloat(total) / n ELSE 1.0 END AS avgdl,
     n >= $prune_from AS prune,
     CASE WHEN ceil($rare_share * n) >= 1 THEN toInteger(ceil($rare_share * n)) ELSE 1 END
       AS rare_cap,
     CASE WHEN n >= 2 THEN toInteger(ceil(n / 2.0)) ELSE 1 END AS half
CALL (prune, rare_cap) {
  UNWIND CASE WHEN prune THEN range(0, size($terms) - 1) ELSE [] END AS i
  CALL (i, rare_cap) {
    CALL db.index.fulltext.queryNodes('graphmem_episode_text', $term_queries[i], {limit: rare_cap})
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
    CALL db.index.fulltext.queryNodes('graphmem_episode_text', $term_queries[c.i], {limit: half})
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
  CALL db.index.fulltext.queryNodes('graphmem_episode_text', $term_queries[i])
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
WITH avgdl, ep, collect({term: $terms[i], idf: idf}) AS stats
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
LIMIT $k
RETURN ep {
  .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
  .status, .error, .infer, .metadata_json,
  reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
  created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
} AS episode, score
