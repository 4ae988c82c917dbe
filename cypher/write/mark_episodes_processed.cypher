// Mark the batch's episodes processed, in the same transaction as the batch, and give each
// episode stored without a vector the one computed for it (null keeps what is stored).
// Parameters: $partition, $status (STRING, 'processed'),
//             $episodes (LIST<MAP> of {id: STRING, embedding: LIST<FLOAT>|null}).
UNWIND $episodes AS row
MATCH (ep:Episode {id: row.id})
WHERE ep.partition = $partition
SET ep.status = $status, ep.error = null,
    ep.embedding = coalesce(ep.embedding, row.embedding)
RETURN count(ep) AS updated
