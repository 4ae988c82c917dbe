// Record the outcome of extraction for one episode.
// Parameters: $partition, $id, $status (STRING), $error (STRING|null).
MATCH (ep:Episode {id: $id})
WHERE ep.partition = $partition
SET ep.status = $status, ep.error = $error
RETURN count(ep) AS updated
