// Full-text (Lucene) index over the fact registry nodes: finds a partition's facts holding a
// query token (read/search_facts_text.cypher). `text` holds the store's own tokens of the
// fact's document (graphmem.text.fts_terms of sentence + source + target, the embedded
// store's document) joined by spaces, and `part` a token naming the partition; the
// whitespace analyzer keeps both exactly as written, so a Lucene term is a graphmem token
// and `+part:<token>` restricts a query to one partition inside Lucene. Lucene's own scores
// are not used (its statistics span every user): BM25 is computed in Cypher from the
// partition's statistics.
CREATE FULLTEXT INDEX graphmem_fact_text IF NOT EXISTS
FOR (ref:FactRef) ON EACH [ref.text, ref.part]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace', `fulltext.eventually_consistent`: false}}
