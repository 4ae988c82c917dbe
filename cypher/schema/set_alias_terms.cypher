// The one-time alias backfill's write: each older entity's alias terms, computed by the
// store as for new entities ("<partition token> <alias key>" per alias key).
// Parameters: $rows: LIST<MAP> with id, alias_terms (LIST<STRING>).
UNWIND $rows AS row
MATCH (e:Entity {id: row.id})
SET e.alias_terms = row.alias_terms
RETURN count(e) AS updated
