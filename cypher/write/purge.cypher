// Forget for good (graphmem.forget has the rule; GraphStore.purge the contract): the facts
// $fact_ids with their registry nodes, the episodes $episode_ids (DETACH: their mentions go
// with them; their vector and full-text entries with the node; the partition's fact and
// message BM25 counters move back by what was removed), the removed episodes' ids
// dropped from the provenance of facts that stay, then the entities the removed facts or
// episodes touched that no fact and no mention holds any more.
// Parameters: $partition, $fact_ids (LIST<STRING>), $episode_ids (LIST<STRING>).
CALL () {
  MATCH (ref:FactRef)
  WHERE ref.id IN $fact_ids AND ref.partition = $partition
  MATCH (a:Entity {id: ref.source_id})-[r]->(b:Entity)
  WHERE r.id = ref.id AND r.partition = $partition
  WITH ref, r, [a.id, b.id] AS ends, coalesce(ref.doc_len, 0) AS len
  DELETE r, ref
  RETURN count(r) AS facts, collect(ends) AS fact_ends, sum(len) AS fact_terms
}
CALL () {
  MATCH (ep:Episode)
  WHERE ep.id IN $episode_ids AND ep.partition = $partition
  OPTIONAL MATCH (ep)-[:MENTIONS]->(e:Entity)
  WITH ep, collect(e.id) AS mentioned, coalesce(ep.doc_len, 0) AS len
  DETACH DELETE ep
  RETURN count(ep) AS episodes, collect(mentioned) AS mention_ends, sum(len) AS episode_terms
}
CALL () {
  MATCH (:Entity {partition: $partition})-[r]->(:Entity)
  WHERE r.partition = $partition AND size($episode_ids) > 0
    AND any(x IN coalesce(r.episodes, []) WHERE x IN $episode_ids)
  SET r.episodes = [x IN r.episodes WHERE NOT x IN $episode_ids]
  RETURN count(r) AS relinked
}
CALL (facts, fact_terms, episodes, episode_terms) {
  // The partition's full-text counters move back: lock the node first (write, then read).
  OPTIONAL MATCH (v:PartitionVersion {partition: $partition})
  SET v.locked = true
  WITH v
  SET v.fact_docs = v.fact_docs - facts, v.fact_terms = v.fact_terms - fact_terms,
      v.episode_docs = v.episode_docs - episodes,
      v.episode_terms = v.episode_terms - episode_terms
  REMOVE v.locked
  RETURN count(v) AS counted
}
WITH facts, episodes,
     reduce(ids = [], pair IN fact_ends + mention_ends | ids + pair) AS touched
CALL (touched) {
  MATCH (e:Entity)
  WHERE e.id IN touched AND e.partition = $partition
    AND NOT (e)--()
  DELETE e
  RETURN count(e) AS entities
}
RETURN facts, episodes, entities
