// BM25 over the facts of ONE partition, the embedded store's definition (FTS5's bm25: k1 1.2,
// b 0.75, idf = ln((N - df + 0.5) / (df + 0.5)), at least 1e-6), with the partition's own
// statistics, so one user's data never changes another user's ranking (hard partition):
// N and the total document length are counters on the partition's PartitionVersion node
// (kept by the writes), df is counted from the partition's hits. The document of a fact is
// its registry node's `text` (tokens of sentence + source + target, graphmem.text, joined
// by single spaces) and `doc_len` (their number), found through the Lucene index
// graphmem_fact_text with one query per token, each `+part:<partition token>
// +text:"<token>"` (built and escaped by the store; the partition restricts what Lucene
// matches, and every hit is checked against $partition again). Lucene's own scores are not
// used. A token's frequency in a document is counted in Cypher by string functions (Java's,
// not an interpreted loop over a token list, which cost 30x on long messages): with every
// separator $sep (one space) doubled and one more at both ends, "<sep><token><sep>" occurs
// once per occurrence of the token, never overlapping; replace() turns each occurrence into
// one $sep, so the count is the length it removes over the token's length plus one. It is
// counted only for the tokens whose Lucene hits hold the document (each hit list is turned
// into (document, token) pairs, grouped by document in token order): a token a document
// does not hold adds 0.0 to its score, so the sum is the same, and a long message is not
// scanned once per query word it lacks (a message query carries some 30 word forms).
// As on the embedded store, a partition of $prune_from facts or more leaves out tokens held
// by many of its facts (BM25 gives them an idf near 0, yet they would be read and scored
// thousands of times): counted in the partition, up to a cap, first at $rare_share of its
// facts (only tokens under that cap are kept when there are any), then at half of them
// (tokens under half are kept; when none is, the rarest stays).
// Statistics count every fact of the partition (current or not, any agent or run); the scope
// ($agent_id, $run_id, $include_invalid) filters which facts are returned.
// Parameters: $partition, $agent_id, $run_id, $include_invalid,
//             $terms (LIST<STRING>, distinct query tokens), $term_queries (LIST<STRING>,
//             the Lucene query of each token), $prune_from (INTEGER), $rare_share (FLOAT),
//             $sep (STRING, " ": the token separator of `text`), $k, $with_embeddings.
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
LIMIT $k
MATCH (a:Entity {id: ref.source_id})-[r]->(b:Entity {id: ref.target_id})
WHERE r.id = ref.id
WITH a, r, b, score
ORDER BY score DESC, r.id ASC
RETURN r {
  .id, .partition, .user_id, .agent_id, .run_id, .fact, .episodes, .confidence,
  .invalidated_by, .metadata_json, .memory_id,
  valid_at: r.valid_at.epochSeconds * 1000000 + r.valid_at.microsecond,
  invalid_at: r.invalid_at.epochSeconds * 1000000 + r.invalid_at.microsecond,
  created_at: r.created_at.epochSeconds * 1000000 + r.created_at.microsecond,
  expired_at: r.expired_at.epochSeconds * 1000000 + r.expired_at.microsecond
} AS fact,
  type(r) AS relation, a.id AS source_id, a.name AS source, b.id AS target_id, b.name AS target,
  CASE WHEN $with_embeddings THEN r.embedding ELSE null END AS embedding, score
