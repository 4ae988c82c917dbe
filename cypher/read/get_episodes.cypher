// Episodes by id within one partition; unknown ids are left out.
// Parameters: $partition (STRING), $ids (LIST<STRING>).
MATCH (ep:Episode)
WHERE ep.id IN $ids AND ep.partition = $partition
RETURN ep {
  .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
  .status, .error, .infer, .metadata_json,
  reference_time: ep.reference_time.epochSeconds * 1000000 + ep.reference_time.microsecond,
  created_at: ep.created_at.epochSeconds * 1000000 + ep.created_at.microsecond
} AS episode
