// Fact ids are unique store-wide, enforced by the database. Facts are relationships of an
// open set of types and Neo4j 5 relationship indexes and constraints are per type, so each
// fact has a small registry node (:FactRef {id, partition, source_id}) written in the same
// statement as the relationship. It makes a duplicate fact id fail the whole transaction,
// and turns lookups by id (get_facts, locate_fact, invalidations, merges, deletes) into an
// index seek plus one expand from the source entity, instead of a scan of the partition.
CREATE CONSTRAINT graphmem_fact_ref_id IF NOT EXISTS
FOR (ref:FactRef) REQUIRE ref.id IS UNIQUE
