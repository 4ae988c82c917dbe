// The message index of earlier versions (Lucene's standard analyzer over raw content, scored
// with store-wide statistics), replaced by graphmem_episode_text: dropped by setup() when
// found, so episode writes stop paying for an index nothing reads.
DROP INDEX graphmem_episode_content IF EXISTS
