// Sizes of one partition. Parameters: $partition.
RETURN
  COUNT { MATCH (e:Entity {partition: $partition}) } AS entities,
  COUNT {
    MATCH (:Entity {partition: $partition})-[r]->(:Entity)
    WHERE r.partition = $partition
  } AS facts,
  COUNT {
    MATCH (:Entity {partition: $partition})-[r]->(:Entity)
    WHERE r.partition = $partition AND r.invalid_at IS NULL AND r.expired_at IS NULL
  } AS current_facts,
  COUNT { MATCH (ep:Episode {partition: $partition}) } AS episodes
