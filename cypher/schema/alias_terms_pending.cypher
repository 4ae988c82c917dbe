// Entities written before the alias index (no `alias_terms` yet), with what the store needs
// to compute them (fulltext.alias_terms). Read in batches by the store's one-time backfill
// (Neo4jStore._backfill_alias_terms), which writes them with schema/set_alias_terms.
// Parameters: $batch (INTEGER).
MATCH (e:Entity)
WHERE e.alias_terms IS NULL
WITH e
LIMIT $batch
RETURN e.id AS id, e.partition AS partition, coalesce(e.alias_keys, []) AS alias_keys
