// The existing indexes (uniqueness constraints included: each is backed by an index of the
// same name) with their type and configuration. setup() creates only what is missing, so a
// deployment whose schema was created by an admin needs no schema privileges at run time,
// and compares each vector index's `vector.dimensions` with the embedder's.
SHOW INDEXES
YIELD name, type, options
RETURN name, type, options
