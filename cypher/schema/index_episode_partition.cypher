// Range index: episodes are always read within one partition.
CREATE INDEX graphmem_episode_partition IF NOT EXISTS
FOR (ep:Episode) ON (ep.partition)
