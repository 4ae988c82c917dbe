// Each new episode's scalar metadata as properties "m.<key>" (keys validated by the store),
// so Mem0-style metadata filters can test them (read/*_by_metadata.cypher). The map comes
// as a parameter: no key is ever written into the statement.
// Parameters: $partition, $rows: LIST<MAP> with id, props (MAP).
UNWIND $rows AS row
MATCH (ep:Episode {id: row.id})
WHERE ep.partition = $partition
SET ep += row.props
RETURN count(ep) AS updated
