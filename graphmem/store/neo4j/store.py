"""The Neo4j store: the store contract on Neo4j 5.26 (Community is enough), readable in Browser.

Schema (what a person sees in Neo4j Browser):

- ``(:Entity:<Type> {id, partition, user_id, name, key, type, aliases, alias_keys, terms,
  embedding, created_at, updated_at})``: the type label (Person, Organization, ...) is set
  with Cypher's dynamic ``$(...)`` labels from a validated parameter value.
- ``(a:Entity)-[:<RELATION> {id, partition, user_id, agent_id, run_id, fact, embedding,
  valid_at, invalid_at, created_at, expired_at, episodes, confidence, invalidated_by,
  metadata_json, terms}]->(b:Entity)``: one typed relationship per fact, so the graph reads
  like the facts. The type is validated (UPPER_SNAKE) and written literally into a template
  statement, one statement per type in the add's transaction: Neo4j 5.26.0 reuses the first
  dynamic relationship type of an UNWIND for every row (Neo4j issue 13597).
- ``(:Episode {id, partition, user_id, agent_id, run_id, role, name, content,
  reference_time, created_at, status, error, infer, metadata_json, embedding})
  -[:MENTIONS]->(:Entity)``.
- Times are DATETIME (aware UTC datetimes through the driver). ``partition`` is the hard
  partition key on every node and fact; ``user_id`` is kept for readability.

Every statement is a named file under cypher/ (see graphmem.store.cypher_loader); this module
holds no Cypher. Labels and relationship types are validated against the identifier patterns
of graphmem.normalize; labels are then passed as parameter values to ``$(...)``, relationship
types fill a template's backticked placeholder (cypher_loader.render). No value is ever
spliced into query text.

Design notes (the trade-offs are explained where the statements live, in cypher/):

- Facts are relationships of an open set of types. Neo4j 5 relationship property indexes,
  relationship vector indexes and relationship full-text indexes are all defined per type
  (full-text on a fixed list), so fact reads (by id, vector, text) are anchored on the
  partition's entities (range index on Entity.partition) and scan that partition's facts
  only. Cost grows with one user's facts, never with the database.
- Fact similarity is computed in Cypher (vector.similarity.cosine) and only scores come
  back. Neo4j normalises cosine to (1 + cos) / 2; the statements map it back to [-1, 1].
- Fact full-text is BM25 computed in Cypher over tokens stored with each fact and entity.
- Entities and episodes use real vector indexes (over-fetch, keep the partition's hits,
  fall back to an exact partition scan when too few survive: exact either way).
- apply() is one managed write transaction (session.execute_write, retried by the driver on
  transient errors): the version claim, then one UNWIND statement per kind (facts one per
  relation type), whatever the batch size.
- Reads use session.execute_read (routed to readers on neo4j:// URIs); every session shares
  one bookmark manager so a read sees the store's own earlier writes on a cluster.
- link_candidates and seed_search each run ONE statement that combines the single searches
  as CALL subqueries returning collected lists (same results as the single methods); expand
  is one query for up to 4 hops. The store sets ``overlaps_reads``, so a search runs
  seed_search's text half while the query is embedded and link_candidates beside its vector
  half (graphmem/recall/seeds.py): 3 round trips on the critical path (docs/neo4j.md).
"""

from __future__ import annotations

from graphmem.store.neo4j.writes import WritesMixin


class Neo4jStore(WritesMixin):
    """GraphStore on a Neo4j 5.26+ server (single instance, cluster or Aura).

    ``Neo4jStore(uri, user, password, database)``; each defaults to NEO4J_URI, NEO4J_USER
    (neo4j), NEO4J_PASSWORD and NEO4J_DATABASE (the server's default database). The
    constructor connects and checks the database, raising StoreError naming the URI when it
    cannot. Call ``setup(dims)`` once to create constraints and indexes (idempotent).
    """

    name = "neo4j"
    overlaps_reads = True  # reads wait on the server: a search overlaps them (recall/seeds.py)
    concurrent_writes = True  # the driver is thread-safe; each call has its own session
