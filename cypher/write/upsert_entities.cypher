// Upsert entities by id within the partition, with labels :Entity:<Type>.
// The type label is set with Cypher 5 dynamic labels from a parameter value that the store
// has validated against TYPE_PATTERN (PascalCase [A-Za-z0-9]); the query text never
// contains it. When an entity's type changes, the previous type label is removed the same
// way. An id that belongs to another partition is left untouched and counted out.
// Parameters: $partition, $reserved (LIST<STRING>: labels never removed, e.g. Entity),
//   $rows: LIST<MAP> with id, user_id, name, key, type, labels (LIST<STRING>, always
//   starting with 'Entity'), aliases, alias_keys, alias_terms, terms, embedding (LIST<FLOAT>|null),
//   created_at, updated_at (DATETIME).
// alias_terms ("<partition token> <alias key>" each, fulltext.alias_terms) feed the full-text index graphmem_entity_alias
// that find_entities_by_key looks keys up in.
UNWIND $rows AS row
MERGE (e:Entity {id: row.id})
ON CREATE SET e.partition = $partition, e.created_at = row.created_at
WITH e, row, e.type AS previous_type
WHERE e.partition = $partition
SET e.user_id = row.user_id,
    e.name = row.name,
    e.key = row.key,
    e.type = row.type,
    e.aliases = row.aliases,
    e.alias_keys = row.alias_keys,
    e.alias_terms = row.alias_terms,
    e.terms = row.terms,
    e.embedding = coalesce(row.embedding, e.embedding),
    e.updated_at = row.updated_at
FOREACH (stale IN CASE
           WHEN previous_type IS NOT NULL AND previous_type <> row.type
                AND NOT previous_type IN $reserved
           THEN [previous_type] ELSE [] END |
  REMOVE e:$(stale))
SET e:$(row.labels)
RETURN count(e) AS upserted
