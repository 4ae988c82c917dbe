// Mark the batch's episodes processed, in the same transaction as the batch.
// Parameters: $partition, $ids (LIST<STRING>), $status (STRING, 'processed').
UNWIND $ids AS episode_id
MATCH (ep:Episode {id: episode_id})
WHERE ep.partition = $partition
SET ep.status = $status, ep.error = null
RETURN count(ep) AS updated
