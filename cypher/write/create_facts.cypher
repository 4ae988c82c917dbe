// Create facts of ONE relationship type as typed relationships (a)-[:RELATION]->(b)
// between entities of the partition. This file is a template (graphmem.store.cypher_loader
// render): `__RELATION__` is replaced by the fact type, validated against RELATION_PATTERN
// (UPPER_SNAKE [A-Z0-9_], at most 64 characters) and written literally, in backticks. A
// dynamic type `[:$(row.relation)]` would be simpler, but Neo4j 5.26.0 evaluates it once per
// UNWIND and reuses it for every row and cached plan (Neo4j issue 13597), so the store runs
// this statement once per type present in a batch, all in the add's one transaction.
// Each fact also gets its registry node (:FactRef), whose uniqueness constraint refuses a
// fact id used before (the transaction fails whole), and which carries what fact search
// filters and ranks on: the scope fields, the validity times and the fact's vector (a node
// vector index covers every fact, whatever its type; see read/search_facts_vector.cypher). The store compares `created` with
// the number of rows and rolls back when an endpoint is missing from the partition.
// The registry node also carries the fact's full-text document (`text`, the store's tokens
// joined by spaces, read by Lucene and by the BM25; `doc_len`, its tokens) and the
// partition's token (`part`) for the fact full-text index, and the partition's counters (PartitionVersion.fact_docs and
// .fact_terms, the BM25 statistics of read/search_facts_text.cypher) move on by the created
// facts; the transaction already holds the counter node's lock (claim_partition_version).
// The registry node records the fact's memory id (props.memory_id) for a memory's versions
// (one index seek, schema/index_fact_ref_memory.cypher); a separate statement set it before.
// Parameters: $partition, $part (the partition's full-text token),
//   $rows: LIST<MAP> with source_id, target_id, text, doc_len and props
//   (MAP: id, partition, user_id, agent_id, run_id, fact, embedding, valid_at, invalid_at,
//   created_at, expired_at, episodes, confidence, invalidated_by, metadata_json, terms).
UNWIND $rows AS row
MATCH (a:Entity {id: row.source_id})
WHERE a.partition = $partition
MATCH (b:Entity {id: row.target_id})
WHERE b.partition = $partition
CREATE (a)-[r:`__RELATION__`]->(b)
SET r = row.props
CREATE (:FactRef {
  id: row.props.id, partition: $partition, source_id: a.id, target_id: b.id,
  memory_id: row.props.memory_id,
  agent_id: row.props.agent_id, run_id: row.props.run_id,
  invalid_at: row.props.invalid_at, expired_at: row.props.expired_at,
  embedding: row.props.embedding,
  text: row.text, doc_len: row.doc_len, part: $part
})
WITH count(r) AS created, sum(row.doc_len) AS terms
MERGE (v:PartitionVersion {partition: $partition})
ON CREATE SET v.version = 0
SET v.fact_docs = coalesce(v.fact_docs, 0) + created,
    v.fact_terms = coalesce(v.fact_terms, 0) + terms
RETURN created
