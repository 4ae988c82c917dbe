// The existing vector indexes and their configuration: setup() compares their
// `vector.dimensions` with the embedder's and recreates them only when no vectors are stored.
SHOW INDEXES
YIELD name, type, options
WHERE type = 'VECTOR'
RETURN name, options
