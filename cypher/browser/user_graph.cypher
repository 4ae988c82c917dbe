// A user's current knowledge graph: every entity with its current facts.
// Parameters (run in Neo4j Browser before the query):
//   :param partition => 'u:alice'
// (a user's partition is 'u:' + user_id; an agent-only scope is 'a:' + agent_id).
// Tip: `graphmem browse --user alice` prints the :param line and this query.
MATCH (a:Entity {partition: $partition})
OPTIONAL MATCH (a)-[r]->(b:Entity)
WHERE r.partition = $partition AND r.invalid_at IS NULL AND r.expired_at IS NULL
RETURN a, r, b
LIMIT 500
