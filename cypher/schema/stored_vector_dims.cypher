// The dimension of one stored vector of each kind (empty list when none is stored):
// setup() refuses an embedder of another dimension.
RETURN
  COLLECT {
    MATCH (e:Entity) WHERE e.embedding IS NOT NULL
    RETURN size(e.embedding) LIMIT 1
  } AS entity_dims,
  COLLECT {
    MATCH (:Entity)-[r]->(:Entity) WHERE r.embedding IS NOT NULL
    RETURN size(r.embedding) LIMIT 1
  } AS fact_dims,
  COLLECT {
    MATCH (ep:Episode) WHERE ep.embedding IS NOT NULL
    RETURN size(ep.embedding) LIMIT 1
  } AS episode_dims
