// The one-time backfill's write: each older episode's full-text document, its length and its
// partition's token (computed by the store, as for new episodes). The fact counterpart is
// schema/set_fact_text (a label is written literally so the id lookup is an index seek).
// Parameters: $rows: LIST<MAP> with id, text, doc_len, part.
UNWIND $rows AS row
MATCH (ep:Episode {id: row.id})
SET ep.text = row.text, ep.doc_len = row.doc_len, ep.part = row.part
RETURN count(ep) AS updated
