// Full-text index over entity names: finding an entity by (part of) its name in Neo4j
// Browser (cypher/browser/find_entity.cypher) and for operators.
CREATE FULLTEXT INDEX graphmem_entity_name IF NOT EXISTS
FOR (e:Entity) ON EACH [e.name]
