"""The Neo4j store (graphmem.store.neo4j.store.Neo4jStore), split by concern:

- values.py: identifiers, times, JSON, full-text terms, rows back to models;
- connection.py: driver, sessions, managed transactions, errors;
- schema.py: constraints and indexes (setup);
- reads.py: reads and the batched search statements;
- writes.py: episodes, apply(), deletes and forgetting;
- store.py: Neo4jStore, the class users import.

``from graphmem.store.neo4j import Neo4jStore`` is the public entry point; the other names
are re-exported for the tests and tools that used the single module.
"""

from graphmem.browse import browse_query, cypher_string_literal
from graphmem.store.neo4j.schema import BASE_SCHEMA, QUANTIZED, VECTOR_INDEXES
from graphmem.store.neo4j.store import Neo4jStore
from graphmem.store.neo4j.values import _py_dt, query_terms, text_terms

__all__ = [
    "BASE_SCHEMA",
    "QUANTIZED",
    "VECTOR_INDEXES",
    "Neo4jStore",
    "_py_dt",
    "browse_query",
    "cypher_string_literal",
    "query_terms",
    "text_terms",
]
