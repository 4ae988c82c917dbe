// The one-time backfill's write: each older registry node's full-text document, its length
// and its partition's token (computed by the store, as for new facts).
// Parameters: $rows: LIST<MAP> with id, text, doc_len, part.
UNWIND $rows AS row
MATCH (ref:FactRef {id: row.id})
SET ref.text = row.text, ref.doc_len = row.doc_len, ref.part = row.part
RETURN count(ref) AS updated
