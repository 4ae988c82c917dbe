// Vector index over fact embeddings, on the per-fact registry node (:FactRef): a relationship
// vector index covers one relationship type only, and fact types are an open set, so the
// vectors live on a node that every fact has (search_facts_vector, seed_search).
// Parameters: $dims (INTEGER, the embedder's dimension).
CREATE VECTOR INDEX graphmem_fact_embedding IF NOT EXISTS
FOR (ref:FactRef) ON ref.embedding
OPTIONS {indexConfig: {
  `vector.dimensions`: $dims,
  `vector.similarity_function`: 'cosine'
}}
