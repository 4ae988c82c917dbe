// One entity's neighbourhood as readable rows: each chain of current facts (both
// directions, up to 2 hops) from the entity, as [source, RELATION, target] steps with the
// facts' sentences and the entity it reaches. No vectors, no search tokens. Parameters:
//   :param partition => 'u:alice'
//   :param entity_id => '<id from find_entity.cypher>'
// Variable-length bounds cannot be parameters in Cypher, so the pattern allows 1..2 hops;
// edit the *1..2 to widen it. To draw it instead, RETURN path (Browser then shows every
// stored property, the embedding vectors included).
MATCH (center:Entity {partition: $partition, id: $entity_id})
MATCH path = (center)-[*1..2]-(other:Entity)
WHERE all(r IN relationships(path)
          WHERE r.partition = $partition AND r.invalid_at IS NULL AND r.expired_at IS NULL)
RETURN center.name AS entity,
       length(path) AS hops,
       [r IN relationships(path) | [startNode(r).name, type(r), endNode(r).name]] AS steps,
       [r IN relationships(path) | r.fact] AS facts,
       other.name AS reaches,
       other.type AS reaches_type
ORDER BY hops ASC, reaches ASC
LIMIT 300
