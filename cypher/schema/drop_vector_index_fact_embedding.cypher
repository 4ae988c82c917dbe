// Dropped only by setup() when the index has another dimension and no vectors are stored.
DROP INDEX graphmem_fact_embedding IF EXISTS
