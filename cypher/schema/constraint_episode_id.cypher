// Every episode id is unique across the database.
CREATE CONSTRAINT graphmem_episode_id IF NOT EXISTS
FOR (ep:Episode) REQUIRE ep.id IS UNIQUE
