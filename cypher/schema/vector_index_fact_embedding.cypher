// Vector index over fact embeddings, on the per-fact registry node (:FactRef): a relationship
// vector index covers one relationship type only, and fact types are an open set, so the
// vectors live on a node that every fact has (search_facts_vector, seed_search).
// Quantized (int8, Neo4j's default since 5.23): fact search re-scores the index's best hits
// with the exact cosine (read/search_facts_vector). An unquantized index (earlier versions of
// graphmem) answered 5-10x slower on Neo4j 5.26 once written by many small transactions, so
// setup() rebuilds one when it finds it.
// Parameters: $dims (INTEGER, the embedder's dimension).
CREATE VECTOR INDEX graphmem_fact_embedding IF NOT EXISTS
FOR (ref:FactRef) ON ref.embedding
OPTIONS {indexConfig: {
  `vector.dimensions`: $dims,
  `vector.similarity_function`: 'cosine',
  `vector.quantization.enabled`: true
}}
