// Registry nodes written before the fact full-text index (no `text` yet), with what the store
// needs to compute their document: the sentence and both ends' names. Read in batches by
// the store's one-time backfill (Neo4jStore._backfill_text), which writes them back
// with schema/set_fact_text.
// Parameters: $batch (INTEGER).
MATCH (ref:FactRef)
WHERE ref.text IS NULL
WITH ref
LIMIT $batch
OPTIONAL MATCH (a:Entity {id: ref.source_id})-[r]->(b:Entity)
WHERE r.id = ref.id
RETURN ref.id AS id, ref.partition AS partition, r.fact AS fact, a.name AS source,
       b.name AS target
