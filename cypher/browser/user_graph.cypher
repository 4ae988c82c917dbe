// A user's current knowledge graph as readable rows: every current fact (source, relation,
// target, the sentence, since when it holds) and, once, every entity without a current
// fact. Names, types and sentences only: no vectors, no search tokens.
// Parameters (run in Neo4j Browser before the query):
//   :param partition => 'u:alice'
// (a user's partition is 'u:' + user_id; an agent-only scope is 'a:' + agent_id).
// Tip: `graphmem browse --user alice` prints the :param line and this query.
// To draw the graph instead, RETURN a, r, b (Browser then shows every stored property of
// the nodes and relationships, the embedding vectors included).
MATCH (a:Entity {partition: $partition})
OPTIONAL MATCH (a)-[r]->(b:Entity)
WHERE r.partition = $partition AND r.invalid_at IS NULL AND r.expired_at IS NULL
WITH a, r, b
WHERE r IS NOT NULL OR NOT EXISTS { (a)--(:Entity) }
RETURN a.name AS source,
       a.type AS source_type,
       type(r) AS relation,
       b.name AS target,
       b.type AS target_type,
       r.fact AS fact,
       r.valid_at AS valid_from,
       r.id AS fact_id
ORDER BY source ASC, relation ASC, target ASC, fact_id ASC
LIMIT 500
