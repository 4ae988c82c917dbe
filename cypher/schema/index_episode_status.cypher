// Range index: pending_episodes() across all partitions looks episodes up by status.
CREATE INDEX graphmem_episode_status IF NOT EXISTS
FOR (ep:Episode) ON (ep.status)
