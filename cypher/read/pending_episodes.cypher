// Episodes still to extract (pending or failed: every status but processed), oldest first:
// (reference_time, created_at, partition, id); all partitions when $partition is null.
// Parameters: $partition (STRING|null), $statuses (LIST<STRING>, the unprocessed statuses).
MATCH (ep:Episode)
WHERE ep.status IN $statuses
  AND ($partition IS NULL OR ep.partition = $partition)
WITH ep
ORDER BY ep.reference_time ASC, ep.created_at ASC, ep.partition ASC, ep.id ASC
RETURN ep {
  .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
  .status, .error, .infer, .metadata_json,
  reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
  created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
} AS episode
