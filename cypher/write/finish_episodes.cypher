// The last statement of an add's write transaction: the (:Episode)-[:MENTIONS]->(:Entity)
// provenance links (both ends in the partition), then the batch's episodes marked processed,
// each episode stored without a vector given the one computed for it (null keeps what is
// stored). One statement where there were two (add_mentions, mark_episodes_processed): one
// round trip less per add. Each part is a CALL subquery ending in an aggregation, which
// returns one row even when its list is empty, so either part may be empty.
// Parameters: $partition, $mentions (LIST<MAP> with episode_id, entity_id),
//             $status (STRING, 'processed'),
//             $episodes (LIST<MAP> of {id: STRING, embedding: LIST<FLOAT>|null}).
CALL () {
  UNWIND $mentions AS row
  MATCH (ep:Episode {id: row.episode_id})
  WHERE ep.partition = $partition
  MATCH (e:Entity {id: row.entity_id})
  WHERE e.partition = $partition
  MERGE (ep)-[:MENTIONS]->(e)
  RETURN count(*) AS linked
}
CALL () {
  UNWIND $episodes AS row
  MATCH (ep:Episode {id: row.id})
  WHERE ep.partition = $partition
  SET ep.status = $status, ep.error = null,
      ep.embedding = coalesce(ep.embedding, row.embedding)
  RETURN count(ep) AS updated
}
RETURN linked, updated
