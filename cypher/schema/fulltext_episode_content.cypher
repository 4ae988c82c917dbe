// Full-text (Lucene, BM25) index over raw message content: search_episodes_text().
CREATE FULLTEXT INDEX graphmem_episode_content IF NOT EXISTS
FOR (ep:Episode) ON EACH [ep.content]
