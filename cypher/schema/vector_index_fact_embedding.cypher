// Vector index over fact embeddings, on the per-fact registry node (:FactRef): a relationship
// vector index covers one relationship type only, and fact types are an open set, so the
// vectors live on a node that every fact has (search_facts_vector, seed_search).
// Quantization is off: fact search keeps the index's scores (re-scoring every hit in Cypher
// costs ten times the index query), and int8-quantized scores are off by up to 0.07 from the
// cosine the embedded store computes; unquantized they are the float32 cosine.
// Parameters: $dims (INTEGER, the embedder's dimension).
CREATE VECTOR INDEX graphmem_fact_embedding IF NOT EXISTS
FOR (ref:FactRef) ON ref.embedding
OPTIONS {indexConfig: {
  `vector.dimensions`: $dims,
  `vector.similarity_function`: 'cosine',
  `vector.quantization.enabled`: false
}}
