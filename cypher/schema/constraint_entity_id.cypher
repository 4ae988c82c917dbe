// Every entity id is unique across the database (ids are uuid4 hex).
// Backs MERGE (e:Entity {id: ...}) and every lookup of an entity by id.
CREATE CONSTRAINT graphmem_entity_id IF NOT EXISTS
FOR (e:Entity) REQUIRE e.id IS UNIQUE
