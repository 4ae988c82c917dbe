// Durably store raw messages. An id already stored in the partition is left as it is, so
// retrying an add after a timeout is harmless; an id that belongs to another partition is
// not touched either and is counted out, so the store refuses the batch.
// Parameters: $rows: LIST<MAP> with id, partition, user_id, agent_id, run_id, role, name,
//   content, reference_time (DATETIME), created_at (DATETIME), status, error, infer,
//   metadata_json, embedding (LIST<FLOAT>|null).
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
  ep.embedding = row.embedding
WITH ep, row
WHERE ep.partition = row.partition
RETURN count(ep) AS written
