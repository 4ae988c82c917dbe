// Vector index over entity name embeddings, used for entity linking
// (search_entities_vector). Parameters: $dims (INTEGER, the embedder's dimension).
CREATE VECTOR INDEX graphmem_entity_embedding IF NOT EXISTS
FOR (e:Entity) ON e.embedding
OPTIONS {indexConfig: {
  `vector.dimensions`: $dims,
  `vector.similarity_function`: 'cosine'
}}
