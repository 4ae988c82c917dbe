// Find entities by (part of) their name with the full-text index, to get an entity id for
// the neighbourhood query. Parameters:
//   :param partition => 'u:alice'
//   :param name => 'ana'
// $name is a Lucene query: a word, several words, or a prefix such as 'acm*'.
CALL db.index.fulltext.queryNodes('graphmem_entity_name', $name)
YIELD node, score
WHERE node.partition = $partition
RETURN node.id AS id, node.name AS name, node.type AS type, node.aliases AS aliases, score
ORDER BY score DESC
LIMIT 25
