// Episodes written before the message full-text index (no `text` yet), with what the store
// needs to compute their document: the content. Read in batches by the store's one-time
// backfill (Neo4jStore._backfill_text), which writes them back with
// schema/set_episode_text. The fact counterpart is schema/fact_text_pending.
// Parameters: $batch (INTEGER).
MATCH (ep:Episode)
WHERE ep.text IS NULL
WITH ep
LIMIT $batch
RETURN ep.id AS id, ep.partition AS partition, ep.content AS content
