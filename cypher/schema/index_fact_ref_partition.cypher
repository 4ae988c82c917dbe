// Range index: the exact fallback of fact vector search scans one partition's fact registry
// nodes (read/search_facts_vector.cypher), never the whole database.
CREATE INDEX graphmem_fact_ref_partition IF NOT EXISTS
FOR (ref:FactRef) ON (ref.partition)
