// Episodes by id within one partition; unknown ids are left out.
// Parameters: $partition (STRING), $ids (LIST<STRING>).
MATCH (ep:Episode)
WHERE ep.id IN $ids AND ep.partition = $partition
RETURN ep {
  .id, .partition, .user_id, .agent_id, .run_id, .role, .name, .content,
  .reference_time, .created_at, .status, .error, .infer, .metadata_json
} AS episode
