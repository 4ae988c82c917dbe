// Vector index over episode embeddings (search_episodes_vector).
// Parameters: $dims (INTEGER, the embedder's dimension).
CREATE VECTOR INDEX graphmem_episode_embedding IF NOT EXISTS
FOR (ep:Episode) ON ep.embedding
OPTIONS {indexConfig: {
  `vector.dimensions`: $dims,
  `vector.similarity_function`: 'cosine'
}}
