// The k facts in scope most similar to the query vector, through the fact vector index on
// the per-fact registry nodes (:FactRef; a relationship vector index would cover one type
// only). The index answers the top `fetch` over ALL partitions; the scope's hits are kept.
// `fetch` is $fetch, raised to twice $k over the partition's share of all facts (its
// fact_docs counter against the FactRef count, from Neo4j's count store) so that k of the
// partition's facts are expected among the hits even when other users' facts crowd the
// top; when that exceeds $max_fetch the partition is a small share of the database and the
// index is not asked at all (the exact scan of the partition is cheap then). The hits kept
// (partition, agent/run, validity are on the registry node). The index is int8-quantized
// (Neo4j's default; an unquantized index answered 5-10x slower once built by many small
// transactions), so its scores are approximate (off by up to 0.054 in cosine): the scope's
// best $rescore hits by the index's score (2 x k + 20) are re-scored with the exact cosine of
// the stored vectors and the best k kept. On 1,000 and 10,000 perf facts of MiniLM vectors
// (40 queries) the exact top k was always among the index's best 11, 33 and 89 for k = 5, 20
// and 51; re-scoring every hit within the worst-case error of the k-th instead re-read
// nearly all 510 hits at 10,000 facts (their scores are that close), three times the cost.
// If at least $k survive they are the scope's top $k; otherwise (a small scope, or narrow filters) the exact answer is
// computed over the partition's registry nodes (range index on FactRef.partition). $fetch = 0
// (no index yet, or a zero vector) goes straight to the exact scan. Scores are
// vector.similarity.cosine's (1 + cos) / 2, mapped back to the cosine in [-1, 1]. Only then
// are the k facts read: both ends by id (index seeks) and the relationship between them. Only
// properties and scores leave the server.
// Parameters: $partition, $agent_id, $run_id, $include_invalid, $vector (LIST<FLOAT>),
//             $k (INTEGER), $fetch (INTEGER >= $k, or 0), $max_fetch (INTEGER),
//             $rescore (INTEGER >= $k: index hits re-scored exactly),
//             $with_embeddings (BOOLEAN).
CALL () {
  UNWIND CASE WHEN $fetch > 0 THEN [true] ELSE [] END AS indexed
  CALL () {
    MATCH (every:FactRef)
    RETURN count(every) AS total
  }
  OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
  WITH total, coalesce(v.fact_docs, 0) AS own
  WITH CASE WHEN own > 0 AND $fetch * own < 2 * $k * total
            THEN toInteger(ceil(2.0 * $k * total / own)) ELSE $fetch END AS wanted
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
