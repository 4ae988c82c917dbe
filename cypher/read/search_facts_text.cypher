// BM25 over fact sentences and their entity names, confined to the scope.
// A relationship full-text index must list its relationship types when it is created, and
// fact types are an open set (whatever RELATION the extractor names), so no Lucene index
// can cover them. Instead every fact carries r.terms (the store's tokens of its sentence)
// and every entity e.terms (tokens of its name and aliases); the document of a fact is
// r.terms + source.terms + target.terms, so entity renames are reflected at once.
// BM25 (k1 = 1.2, b = 0.75, Lucene's idf = ln(1 + (N - df + 0.5) / (df + 0.5))) is
// computed here with N, df and the average length taken over the scope's facts.
// Parameters: $partition, $agent_id, $run_id, $include_invalid,
//             $terms (LIST<STRING>, distinct query tokens), $k, $with_embeddings.
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
LIMIT $k
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
