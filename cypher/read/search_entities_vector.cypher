// Entity linking: nearest entities by cosine similarity of their name embeddings, using the
// entity vector index. The index answers top-$fetch over ALL partitions; we keep this
// partition's hits. If at least $k survive they are the partition's true top-$k (any
// partition entity outside the global top $fetch scores below all of them); otherwise the
// partition is small relative to the database and we compute the exact answer over its
// entities instead. The index is int8-quantized (its scores are off by up to 0.05), so only
// its best $rescore hits in the partition (2 x k + 20, see search_facts_vector) are re-scored
// (not every hit: reading each 384-number vector property again is the cost), with
// vector.similarity.cosine (normalised by
// Neo4j to (1 + cos) / 2) and mapped back to the cosine in [-1, 1]; no vector leaves the server.
// Parameters: $vector (LIST<FLOAT>), $fetch (INTEGER >= $k), $k, $rescore (INTEGER >= $k),
//             $partition.
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
RETURN e {
  .id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at
} AS entity, null AS embedding, score
