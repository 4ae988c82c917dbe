// One entity's neighbourhood: the entity, its facts in both directions up to $hops hops
// (current facts only), and the entities they reach. Parameters:
//   :param partition => 'u:alice'
//   :param entity_id => '<id from find_entity.cypher>'
// Variable-length bounds cannot be parameters in Cypher, so the pattern allows 1..2 hops;
// edit the *1..2 to widen it.
MATCH (center:Entity {partition: $partition, id: $entity_id})
MATCH path = (center)-[*1..2]-(other:Entity)
WHERE all(r IN relationships(path)
          WHERE r.partition = $partition AND r.invalid_at IS NULL AND r.expired_at IS NULL)
RETURN path
LIMIT 300
