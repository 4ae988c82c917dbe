"""What `graphmem browse` prints: the query to paste into Neo4j Browser for one user.

Kept apart from the Neo4j store so printing it needs no Neo4j driver (an optional extra).
"""

from __future__ import annotations

from graphmem.models import Scope
from graphmem.store import cypher_loader


def cypher_string_literal(value: str) -> str:
    """A single-quoted Cypher string literal for `value` (for text a person pastes into
    Neo4j Browser, never for queries the store runs: those take parameters)."""
    out = ["'"]
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == '"':
            out.append('\\"')
        elif ch.isprintable() and ch not in "\u2028\u2029":
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append("'")
    return "".join(out)


def browse_query(user_id: str) -> str:
    """What to paste into Neo4j Browser to see one user's current graph: a `:param` line
    setting the user's partition, then cypher/browser/user_graph.cypher.

    `graphmem browse --user U` prints this. The value is an escaped Cypher string literal
    (Browser evaluates the right-hand side of `:param` as Cypher), so a hostile user id
    stays a string. Raises ScopeError for an invalid user id."""
    scope = Scope.of(user_id=user_id)
    query = cypher_loader.strip_comments(cypher_loader.load("browser/user_graph"))
    lines = [line.rstrip() for line in query.splitlines() if line.strip()]
    param = f":param partition => {cypher_string_literal(scope.partition)};"
    return param + "\n" + "\n".join(lines) + "\n"
