// Full-text (Lucene) index over the messages (episodes): finds a partition's messages holding
// a query token (read/search_episodes_text.cypher), as graphmem_fact_text does for facts.
// `text` holds the store's own tokens of the message's content (graphmem.text.fts_terms, the
// embedded store's message document) joined by spaces, and `part` a token naming the
// partition; the whitespace analyzer keeps both exactly as written. Lucene's own scores are
// not used (its statistics span every user): BM25 is computed in Cypher from the
// partition's statistics.
CREATE FULLTEXT INDEX graphmem_episode_text IF NOT EXISTS
FOR (ep:Episode) ON EACH [ep.text, ep.part]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace', `fulltext.eventually_consistent`: false}}
