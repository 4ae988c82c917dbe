// Durably store raw messages. An id already stored in the partition is left as it is, so
// retrying an add after a timeout is harmless; an id that belongs to another partition is
// not touched either and is counted out, so the store refuses the batch.
// A new episode also gets its full-text document (`text`, the store's tokens of its content
// joined by spaces, read by Lucene and by the BM25; `doc_len`, its tokens) and its
// partition's token (`part`) for the index graphmem_episode_text, and the partition's
// message counters (PartitionVersion.episode_docs and .episode_terms, the BM25 statistics of
// read/search_episodes_text.cypher) move on by the episodes created here, once each (an
// episode created by an earlier row of the same batch is found again, not counted again:
// `uncounted` marks the new nodes until they are counted). Each counter node is locked
// before it is read (write, then read), so concurrent adds to one partition never lose a
// count.
// Parameters: $rows: LIST<MAP> with id, partition, user_id, agent_id, run_id, role, name,
//   content, reference_time (DATETIME), created_at (DATETIME), status, error, infer,
//   metadata_json, embedding (LIST<FLOAT>|null), text, doc_len, part.
UNWIND $rows AS row
MERGE (ep:Episode {id: row.id})
ON CREATE SET
  ep.partition = row.partition,
  ep.user_id = row.user_id,
  ep.agent_id = row.agent_id,
  ep.run_id = row.run_id,
  ep.role = row.role,
  ep.name = row.name,
  ep.content = row.content,
  ep.reference_time = row.reference_time,
  ep.created_at = row.created_at,
  ep.status = row.status,
  ep.error = row.error,
  ep.infer = row.infer,
  ep.metadata_json = row.metadata_json,
  ep.embedding = row.embedding,
  ep.text = row.text,
  ep.doc_len = row.doc_len,
  ep.part = row.part,
  ep.uncounted = true
WITH ep, row
WHERE ep.partition = row.partition
WITH count(ep) AS written, collect(DISTINCT CASE WHEN ep.uncounted THEN ep END) AS created
CALL (created) {
  UNWIND created AS ep
  REMOVE ep.uncounted
  WITH ep.partition AS partition, count(ep) AS docs, sum(ep.doc_len) AS terms
  ORDER BY partition
  MERGE (v:PartitionVersion {partition: partition})
  ON CREATE SET v.version = 0
  SET v.locked = true
  WITH v, docs, terms
  SET v.episode_docs = coalesce(v.episode_docs, 0) + docs,
      v.episode_terms = coalesce(v.episode_terms, 0) + terms
  REMOVE v.locked
  RETURN count(v) AS counted
}
RETURN written
