"""Named Cypher statements: every statement the Neo4j store runs lives in cypher/, one per file.

A statement is named by its path under cypher/ without the suffix ("write/create_facts" is
cypher/write/create_facts.cypher). Files are read once and cached. The folder is, in order:

1. $GRAPHMEM_CYPHER_DIR, when set (an error if it is not a directory): your own copy;
2. the repository's top-level cypher/ (a source checkout or an editable install: the folder
   next to graphmem/ in a tree that has pyproject.toml), the source of truth;
3. graphmem/_cypher inside the installed package: a wheel or sdist carries a copy of cypher/
   as package data (in the repository graphmem/_cypher is a symlink to ../cypher; see
   [tool.setuptools.package-data] in pyproject.toml).

No Cypher is built in Python: values travel as parameters, and labels go through Cypher's
dynamic `$(...)` syntax as parameter values. Relationship types cannot: Neo4j 5.26.0
evaluates a dynamic type `[:$(row.x)]` inside UNWIND once and reuses it for every row and
for later runs of the cached plan (Neo4j issue 13597). A statement that writes a typed
relationship is therefore a template: its file names the type with a placeholder, a
backticked identifier such as `` `__RELATION__` `` (valid Cypher on its own, so the template
still plans with EXPLAIN), and render() fills it with a value that has been checked against
the placeholder's pattern (RELATION_PATTERN: UPPER_SNAKE [A-Z0-9_], at most 64 characters).
Nothing else can be substituted: only identifiers, only validated, only in backticks.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from graphmem.errors import StoreError
from graphmem.normalize import RELATION_PATTERN

ENV_VAR = "GRAPHMEM_CYPHER_DIR"
SUFFIX = ".cypher"
STATEMENT_GROUPS = ("schema", "read", "write")  # run by the store
BROWSER_GROUP = "browser"  # saved queries for people, never run by the store

_NAME = re.compile(r"^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)+$")
#: A template placeholder: a backticked `__NAME__` identifier.
PLACEHOLDER = re.compile(r"`__([A-Z]+)__`")
#: placeholder name -> the pattern a value must match to fill it (identifiers only).
IDENTIFIER_PATTERNS: dict[str, re.Pattern[str]] = {"RELATION": RELATION_PATTERN}


def source_dir() -> Path:
    """The repository's cypher/ (graphmem/store/cypher_loader.py -> <repo>/cypher)."""
    return Path(__file__).resolve().parents[2] / "cypher"


def package_dir() -> Path:
    """The copy shipped inside the installed package (graphmem/_cypher)."""
    return Path(__file__).resolve().parents[1] / "_cypher"


def default_dir() -> Path:
    """The repository's cypher/ in a source checkout, else the installed package's copy.

    The repository's folder counts only next to a pyproject.toml, so an installed graphmem
    never picks up an unrelated site-packages/cypher. Raises StoreError naming both places
    when neither is a directory."""
    source = source_dir()
    if source.is_dir() and (source.parent / "pyproject.toml").is_file():
        return source
    packaged = package_dir()
    if packaged.is_dir():
        return packaged
    raise StoreError(
        f"Cypher statements not found: neither the repository's cypher/ ({source}) nor the "
        f"installed copy ({packaged}) is a directory; reinstall graphmem, or set {ENV_VAR} "
        "to a copy of the graphmem cypher/ folder"
    )


def cypher_dir() -> Path:
    """Where the statements are: $GRAPHMEM_CYPHER_DIR when set, else default_dir()."""
    override = os.environ.get(ENV_VAR)
    if not override:
        return default_dir()
    path = Path(override).expanduser()
    if not path.is_dir():
        raise StoreError(
            f"Cypher statements not found: {ENV_VAR}={override} is not a directory; "
            f"set {ENV_VAR} to the graphmem cypher/ folder (or unset it to use the one "
            "shipped with graphmem)"
        )
    return path


def load(name: str) -> str:
    """The text of one named statement, e.g. load("read/get_facts")."""
    if not _NAME.match(name):
        raise StoreError(f"invalid Cypher statement name {name!r}")
    return _read(str(cypher_dir()), name)


#: Prefix of every statement the store sends: the Cypher language version the files are
#: written in. Neo4j 5.26 accepts it and runs Cypher 5 anyway; on Neo4j 2025.x a database
#: whose default language is Cypher 25 still runs these statements as Cypher 5, so a server
#: upgrade can never change what a statement means. Browser queries are not prefixed: people
#: paste them, and they use nothing that differs between the two versions.
CYPHER_VERSION = "CYPHER 5"


def statement(name: str, **identifiers: str) -> str:
    """What the store sends for a named statement: CYPHER_VERSION, then the statement (a
    template rendered with its validated identifiers, see render())."""
    text = render(name, **identifiers) if identifiers else load(name)
    return f"{CYPHER_VERSION}\n{text}"


def placeholders(name: str) -> list[str]:
    """The placeholder names of a statement (empty for a plain statement), each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(strip_comments(load(name)))))


def render(name: str, **identifiers: str) -> str:
    """A template statement with every placeholder filled by a validated identifier, e.g.
    render("write/create_facts", RELATION="WORKS_AT").

    Raises StoreError when a placeholder has no value, a value is given for no placeholder,
    or a value does not match its placeholder's pattern (nothing is ever substituted that
    is not a plain identifier)."""
    text = load(name)
    wanted = set(placeholders(name))
    if wanted != set(identifiers):
        raise StoreError(
            f"Cypher template {name!r} takes {sorted(wanted)}, got {sorted(identifiers)}"
        )
    for key, value in identifiers.items():
        pattern = IDENTIFIER_PATTERNS.get(key)
        if pattern is None or not isinstance(value, str) or not pattern.fullmatch(value):
            raise StoreError(f"refusing {value!r} for placeholder {key} of {name!r}")
    return PLACEHOLDER.sub(lambda m: f"`{identifiers[m.group(1)]}`", text)


@functools.cache
def _read(directory: str, name: str) -> str:
    path = Path(directory, *name.split("/")).with_suffix(SUFFIX)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoreError(f"Cypher statement {name!r} not found at {path}") from None
    except OSError as exc:
        raise StoreError(f"cannot read Cypher statement {name!r} at {path}: {exc}") from None
    text = text.strip()
    if not strip_comments(text).strip():
        raise StoreError(f"Cypher statement {name!r} at {path} is empty")
    return text


def names(groups: tuple[str, ...] = STATEMENT_GROUPS) -> list[str]:
    """Every statement name under the given groups (default: those the store runs)."""
    root = cypher_dir()
    found: list[str] = []
    for group in groups:
        base = root / group
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*" + SUFFIX)):
            rel = path.relative_to(root).with_suffix("")
            found.append("/".join(rel.parts))
    return found


def clear_cache() -> None:
    _read.cache_clear()


def strip_comments(text: str) -> str:
    """The statement without // and /* */ comments (string literals left intact)."""
    out: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and quote != "`" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in ("'", '"', "`"):
            quote = ch
            out.append(ch)
            i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
