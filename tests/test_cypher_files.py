"""Static checks of cypher/: every statement the Neo4j store runs, one named file each.

No server is needed: these tests read the files and the store's source. They prove that each
file is used by the store (and each name the store uses has a file), that no file can carry
interpolated text (Python format placeholders, string concatenation, literal values where a
parameter belongs), that each is one syntactically balanced statement, and that labels and
relationship types are only ever dynamic `$(...)` expressions over parameter values.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from graphmem.errors import StoreError
from graphmem.store import cypher_loader

ROOT = Path(__file__).resolve().parents[1]
CYPHER = ROOT / "cypher"
# The Neo4j store is a package (graphmem/store/neo4j/): its modules' source, together.
STORE_SOURCE = "\n".join(
    path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "graphmem" / "store" / "neo4j").glob("*.py"))
)

STORE_NAMES = cypher_loader.names()
BROWSER_NAMES = cypher_loader.names(("browser",))
ALL_NAMES = STORE_NAMES + BROWSER_NAMES

# The only string literals a statement the store runs may contain: names of our own indexes
# and fixed configuration words. Everything else that varies is a $parameter.
ALLOWED_LITERALS = {
    "graphmem_episode_text",
    "graphmem_entity_embedding",
    "graphmem_episode_embedding",
    "graphmem_fact_embedding",
    "graphmem_fact_text",
    "whitespace",
    "keyword",
    "graphmem_entity_alias",
    "cosine",
    "VECTOR",
}
CLAUSES = ("MATCH", "MERGE", "CREATE", "SET", "REMOVE", "DELETE", "RETURN", "WITH", "UNWIND")


def _code_and_literals(text: str) -> tuple[str, list[str]]:
    """The statement with comments removed and every string literal replaced by a marker,
    plus the literals themselves. Raises AssertionError on an unterminated literal."""
    text = cypher_loader.strip_comments(text)
    out: list[str] = []
    literals: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            j = i + 1
            buf: list[str] = []
            while j < len(text) and text[j] != ch:
                if text[j] == "\\" and j + 1 < len(text):
                    buf.append(text[j : j + 2])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            assert j < len(text), f"unterminated string literal at offset {i}"
            literals.append("".join(buf))
            out.append(" __STR__ ")
            i = j + 1
            continue
        if ch == "`":
            j = text.find("`", i + 1)
            assert j > 0, f"unterminated backtick identifier at offset {i}"
            out.append(text[i : j + 1])
            i = j + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out), literals


def _balanced(code: str) -> bool:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for ch in code:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return False
    return not stack


def _params(code: str) -> set[str]:
    return set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", code))


def test_there_are_statements():
    assert len(STORE_NAMES) >= 40
    assert {"schema", "read", "write"} == {n.split("/")[0] for n in STORE_NAMES}
    assert len(BROWSER_NAMES) >= 5


@pytest.mark.parametrize("name", STORE_NAMES)
def test_every_statement_is_run_by_the_store(name):
    assert f'"{name}"' in STORE_SOURCE, f"cypher/{name}.cypher is not referenced by the store"


def test_every_name_the_store_uses_has_a_file():
    used = set(re.findall(r'"((?:schema|read|write|browser)/[a-z0-9_]+)"', STORE_SOURCE))
    assert used, "the store references no statements?"
    missing = sorted(n for n in used if n not in ALL_NAMES)
    assert not missing, f"statements referenced but missing from cypher/: {missing}"


def test_the_store_holds_no_cypher():
    """Every tx.run() in the store takes a statement loaded from cypher/, never a literal,
    and no Cypher clause appears in the store's source."""
    runs = [line.strip() for line in STORE_SOURCE.splitlines() if ".run(" in line]
    assert runs and all(
        line.startswith(("rows = rows_of(tx.run(query,", "return rows_of(tx.run(query,"))
        for line in runs
    ), runs
    for pattern in (
        r"\bMATCH\s*\(",
        r"\bMERGE\s*\(",
        r"\bCREATE\s+(\(|CONSTRAINT|INDEX|VECTOR|FULLTEXT)",
        r"\bDETACH\s+DELETE\b",
        r"\bUNWIND\s+\$",
        r"\bCALL\s+db\.",
    ):
        assert not re.search(pattern, STORE_SOURCE), f"Cypher ({pattern}) in the store's source"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_statement_is_one_balanced_statement(name):
    text = cypher_loader.load(name)
    code, _ = _code_and_literals(text)
    assert code.strip(), f"{name} has no statement"
    assert ";" not in code, f"{name}: one statement per file, no ';'"
    assert _balanced(code), f"{name}: unbalanced brackets"
    first = code.strip().split()[0].upper()
    assert first in {
        "MATCH",
        "OPTIONAL",
        "MERGE",
        "CREATE",
        "DROP",
        "SHOW",
        "CALL",
        "RETURN",
        "UNWIND",
    }, f"{name} starts with {first}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_no_interpolation_markers(name):
    text = cypher_loader.load(name)
    code, literals = _code_and_literals(text)
    # Python str.format / %-format / f-string / Jinja-like placeholders.
    assert not re.search(r"\{\s*\d*\s*\}", code), f"{name}: '{{}}' placeholder"
    assert not re.search(r"\{[A-Za-z_]\w*\}", code), f"{name}: '{{name}}' placeholder"
    assert "{{" not in code, f"{name}: doubled braces (a str.format escape)"
    assert not re.search(r"%\(?\w*\)?[sdr]\b", code), f"{name}: %-format placeholder"
    assert not re.search(r"\bf__STR__|\bf\s*__STR__", code), f"{name}: f-string"
    # No string building of values: a literal is never concatenated with anything.
    assert not re.search(r"__STR__\s*\+|\+\s*__STR__", code), f"{name}: string concatenation"
    for literal in literals:
        assert "$" not in literal and "{" not in literal, f"{name}: template in {literal!r}"


@pytest.mark.parametrize("name", STORE_NAMES)
def test_values_are_parameters_not_literals(name):
    _, literals = _code_and_literals(cypher_loader.load(name))
    unexpected = sorted(set(literals) - ALLOWED_LITERALS)
    assert not unexpected, f"{name}: literal values {unexpected}; pass them as $parameters"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_labels_and_types_are_static_or_dynamic_over_values(name):
    code, _ = _code_and_literals(cypher_loader.load(name))
    for match in re.finditer(r":\$\(([^()]*)\)", code):
        inner = match.group(1).strip()
        assert re.fullmatch(r"\$?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", inner), (
            f"{name}: dynamic label/type over {inner!r}: only a parameter or a row field"
        )
        # On 5.26 a dynamic label in MATCH/MERGE cannot use an index (AllNodesScan): keep
        # dynamic labels/types to the clauses that write them.
        before = code[: match.start()]
        clause = max(CLAUSES, key=lambda c: before.rfind(c))
        assert clause in {"CREATE", "SET", "REMOVE"}, f"{name}: dynamic label in {clause}"
    assert "apoc." not in code, f"{name}: APOC is not part of Neo4j Community"


@pytest.mark.parametrize("name", STORE_NAMES)
def test_statements_confine_data_reads_to_a_partition(name):
    """Every read/write touching entities, facts or episodes names $partition (or, for the
    few cross-partition operations, says why in its comment)."""
    text = cypher_loader.load(name)
    code, _ = _code_and_literals(text)
    cross_partition = {
        "read/ping",
        "read/locate_fact",  # finds the partition of a fact id
        "read/locate_memory",  # finds the partition of a memory id (Mem0's get(memory_id))
        "read/locate_episode",  # finds the partition of a message id (get/delete by it)
        "write/backfill_memory_ids",  # one-time migration of every partition's older facts
        "read/pending_episodes",  # all partitions when $partition is null
        "write/add_episodes",  # rows carry their own partition
        "write/reset_batch",  # removes everything
    }
    if name.startswith("schema/") or name in cross_partition:
        return
    assert "$partition" in code, f"{name} does not confine itself to $partition"


def test_fact_reads_never_return_vectors_unless_asked():
    for name in STORE_NAMES:
        code, _ = _code_and_literals(cypher_loader.load(name))
        if "RETURN" not in code or name.startswith("schema/"):
            continue
        tail = code[code.rfind("RETURN") :]
        for match in re.finditer(r"(\w+)\.embedding", tail):
            window = tail[max(0, match.start() - 60) : match.start()]
            assert "$with_embeddings" in window, f"{name} returns {match.group(0)} unasked"
        assert ".*" not in tail, f"{name}: map projection of every property would send vectors"


# -- the batched reads: one statement each, the single statements' logic ----------------------
# (batched statement, single statement it contains, parameter renames single -> batched).
# The *_scan statements are the batched statements' fallback branch: the vector parts with
# $fetch = 0 scan the partition exactly as they do (same filter, score, order and limit).
BATCHED_PARTS = [
    ("read/link_candidates", "read/find_entities_by_key", {}),
    ("read/link_candidates", "read/search_entities_vector", {}),
    ("read/version_and_entities", "read/find_entities_by_key", {}),
    ("read/seed_search", "read/search_facts_vector", {"fetch": "fact_fetch"}),
    ("read/seed_search", "read/search_facts_text", {"k": "limit"}),
    ("read/seed_search", "read/search_episodes_vector", {}),
    (
        "read/seed_search",
        "read/search_episodes_text",
        {"k": "limit", "terms": "episode_terms", "term_queries": "episode_term_queries"},
    ),
]


def _squeeze(code: str) -> str:
    """Code with whitespace collapsed and dropped around brackets and commas."""
    code = re.sub(r"\s+", " ", code).strip()
    return re.sub(r"\s*([(){}\[\],])\s*", r"\1", code)


@pytest.mark.parametrize(("batched", "single", "renames"), BATCHED_PARTS)
def test_batched_reads_contain_the_single_statements(batched, single, renames):
    """Everything of a single statement before its final RETURN (match, filters, scores,
    order, limit), and the property projections it returns, appear unchanged in the batched
    statement: the two cannot drift apart."""
    code, _ = _code_and_literals(cypher_loader.load(single))
    for old, new in renames.items():
        code = re.sub(rf"\${old}\b", f"${new}", code)
    combined = _squeeze(_code_and_literals(cypher_loader.load(batched))[0])
    cut = code.rfind("RETURN")
    body, returned = _squeeze(code[:cut]), code[cut:]
    assert body in combined, f"{batched} no longer contains the logic of {single}"
    for projection in re.findall(r"\w+ \{[^{}]*\.id,[^{}]*\}", returned):
        assert _squeeze(projection) in combined, f"{batched}: {single} returns {projection}"


def _scoring_body(name: str) -> str:
    """A text search's body: from reading the partition's counters to its LIMIT."""
    code = _squeeze(_code_and_literals(cypher_loader.load(name))[0])
    return code[code.index("OPTIONAL MATCH") : code.index("LIMIT $k")]


def test_fact_and_message_text_search_score_with_one_body():
    """Messages are found and scored exactly as facts are (partition-first BM25, the same
    pruning): the message statement is the fact statement's body over the message index and
    counters, less the facts' validity filter. Only what they return differs."""
    body = _scoring_body("read/search_facts_text")
    body = body.replace(
        "AND($include_invalid OR(ref.invalid_at IS NULL AND ref.expired_at IS NULL))", ""
    )
    body = re.sub(r"\bref\b", "ep", body.replace("fact_docs", "episode_docs"))
    body = body.replace("fact_terms", "episode_terms")
    _, literals = _code_and_literals(cypher_loader.load("read/search_facts_text"))
    assert set(literals) == {"graphmem_fact_text"}
    _, literals = _code_and_literals(cypher_loader.load("read/search_episodes_text"))
    assert set(literals) == {"graphmem_episode_text"}
    assert body == _scoring_body("read/search_episodes_text")


def _returned_lists(code: str) -> dict[str, str]:
    """For each name in the final RETURN: the argument of the collect() that builds it
    (following `coalesce(head(collect(x)), [])` to x's own collect)."""
    final = code[code.rfind("RETURN") + len("RETURN") :]
    names = [n.strip() for n in final.split(",")]
    out: dict[str, str] = {}
    for name in names:
        target = name
        while True:
            match = re.search(rf"\)\s+AS\s+{target}\b", code)
            assert match, f"{name} is not built by an aggregation"
            depth, i = 0, match.start()
            while True:  # walk back to the "(" of this ")"
                depth += {")": 1, "(": -1}.get(code[i], 0)
                if depth == 0:
                    break
                i -= 1
            head = code[:i].rstrip()
            inner = code[i + 1 : match.start()].strip()
            wrapped = re.fullmatch(r"head\(collect\((\w+)\)\),\s*\[\]", inner)
            if head.endswith("coalesce") and wrapped:
                target = wrapped.group(1)
                continue
            assert head.endswith("collect"), f"{name} is not built by collect()"
            out[name] = inner
            break
    return out


@pytest.mark.parametrize("name", ["read/link_candidates", "read/seed_search"])
def test_batched_reads_return_maps_of_properties_never_vectors(name):
    """The lists are collected maps of projected properties and scores: no node or
    relationship (the driver would send every property, vectors included), no embedding."""
    code, _ = _code_and_literals(cypher_loader.load(name))
    lists = _returned_lists(code)
    assert lists
    for list_name, item in lists.items():
        assert item.startswith("{") and item.endswith("}"), f"{name}: {list_name} is not maps"
        assert ".embedding" not in item and ".*" not in item, f"{name}: {list_name}"
        assert "score" in item or list_name == "by_key"


def test_every_parameter_has_a_sample_for_the_server_plan_check():
    """tests/test_neo4j_integration.py EXPLAINs every statement on a server with sample
    values; a statement taking a parameter without one would fail there with a KeyError."""
    from tests.test_neo4j_integration import SAMPLE

    for name in cypher_loader.names(("read", "write", "browser")):
        code, _ = _code_and_literals(cypher_loader.load(name))
        missing = _params(code) - set(SAMPLE)
        assert not missing, f"{name}: no sample value for {sorted(missing)}"


@pytest.mark.parametrize("name", BROWSER_NAMES)
def test_browser_queries_document_their_parameters(name):
    text = cypher_loader.load(name)
    code, _ = _code_and_literals(text)
    documented = set(re.findall(r":param\s+([A-Za-z_]\w*)\s*=>", text))
    used = _params(code)
    assert used, f"{name} takes no parameters?"
    assert used <= documented, (
        f"{name}: document {sorted(used - documented)} with ':param x => ...'"
    )


def test_grass_style_sheet():
    grass = (CYPHER / "browser" / "graphmem.grass").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"([\w.]+)\s*\{((?:[^{}]|\{[^{}]*\})*)\}", grass))
    assert _balanced(grass)

    def props(selector: str) -> dict[str, str]:
        return dict(re.findall(r"([\w-]+)\s*:\s*([^;]+);", blocks[selector]))

    assert props("relationship")["caption"].strip("'\"") == "<type>"
    assert props("node.Entity")["caption"].strip("'\"") == "{name}"
    colours = set()
    for label in ("Person", "Organization", "Place"):
        p = props(f"node.{label}")
        assert p["caption"].strip("'\"") == "{name}"
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", p["color"].strip())
        colours.add(p["color"].strip())
    assert len(colours) == 3, "each entity type gets its own colour"
    # node.Entity comes first so the type rules (later) win for :Entity:<Type> nodes.
    assert grass.index("node.Entity") < grass.index("node.Person")


# -- the loader ------------------------------------------------------------------------------
def test_loader_caches_and_reads_the_override_dir(tmp_path, monkeypatch):
    (tmp_path / "read").mkdir()
    (tmp_path / "read" / "ping.cypher").write_text("// test\nRETURN 2 AS ok\n")
    monkeypatch.setenv(cypher_loader.ENV_VAR, str(tmp_path))
    assert cypher_loader.load("read/ping").endswith("RETURN 2 AS ok")
    assert cypher_loader.names() == ["read/ping"]
    monkeypatch.delenv(cypher_loader.ENV_VAR)
    assert cypher_loader.load("read/ping").endswith("RETURN 1 AS ok")


def test_loader_errors_are_store_errors(tmp_path, monkeypatch):
    with pytest.raises(StoreError, match="not found"):
        cypher_loader.load("read/no_such_statement")
    with pytest.raises(StoreError, match="invalid"):
        cypher_loader.load("../../etc/passwd")
    with pytest.raises(StoreError, match="invalid"):
        cypher_loader.load("read/Get-Facts")
    monkeypatch.setenv(cypher_loader.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(StoreError, match=cypher_loader.ENV_VAR):
        cypher_loader.load("read/ping")


def test_loader_prefers_the_repository_then_the_installed_copy(tmp_path, monkeypatch):
    assert cypher_loader.default_dir() == CYPHER.resolve()
    # graphmem/_cypher, shipped in wheels, is the same folder in a checkout (a symlink).
    assert cypher_loader.package_dir().resolve() == CYPHER.resolve()
    # Installed (no repository next to the package): the packaged copy.
    monkeypatch.setattr(cypher_loader, "source_dir", lambda: tmp_path / "nothing")
    assert cypher_loader.default_dir() == cypher_loader.package_dir()
    # A cypher/ without a pyproject.toml next to it (site-packages/cypher) is not ours.
    (tmp_path / "cypher").mkdir()
    monkeypatch.setattr(cypher_loader, "source_dir", lambda: tmp_path / "cypher")
    assert cypher_loader.default_dir() == cypher_loader.package_dir()
    monkeypatch.setattr(cypher_loader, "package_dir", lambda: tmp_path / "missing")
    with pytest.raises(StoreError, match="installed copy"):
        cypher_loader.load("read/ping")


def test_package_data_ships_every_cypher_file():
    """pyproject.toml's package-data patterns for graphmem/_cypher match every file of
    cypher/ (statements, Browser queries, the style sheet)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = [
        pattern
        for pattern in config["tool"]["setuptools"]["package-data"]["graphmem"]
        if pattern.startswith("_cypher/")
    ]
    package = ROOT / "graphmem"
    shipped = {
        path.relative_to(package / "_cypher").as_posix()
        for pattern in patterns
        for path in package.glob(pattern)
        if path.is_file()
    }
    every = {p.relative_to(CYPHER).as_posix() for p in CYPHER.rglob("*") if p.is_file()}
    assert shipped == every
    assert "graphmem._cypher*" in config["tool"]["setuptools"]["packages"]["find"]["exclude"]


@pytest.mark.slow
def test_a_built_wheel_carries_the_statements_and_finds_them(tmp_path):
    """pip wheel on a copy of the source tree, installed elsewhere: the loader finds every
    statement in the installed copy, away from any checkout (about 10 s)."""
    import sys
    import zipfile

    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
    for item in ("graphmem", "cypher", "benchmarks"):
        shutil.copytree(ROOT / item, src / item, symlinks=True, ignore=ignore)
    for item in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / item, src / item)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "whl"), "."],
        cwd=src,
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = (tmp_path / "whl").glob("graphmem-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    every = sorted(p.relative_to(CYPHER).as_posix() for p in CYPHER.rglob("*") if p.is_file())
    assert sorted(n[len("graphmem/_cypher/") :] for n in names if "/_cypher/" in n) == every
    site = tmp_path / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import graphmem.store.cypher_loader as c; "
        "print(c.cypher_dir()); print(len(c.names() + c.names(('browser',)))); "
        "print(c.load('read/seed_search').splitlines()[0])"
    )
    env = {k: v for k, v in os.environ.items() if k != cypher_loader.ENV_VAR}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    where, count, first = done.stdout.strip().splitlines()
    assert Path(where) == site / "graphmem" / "_cypher"
    assert int(count) == len(ALL_NAMES)
    assert first == cypher_loader.load("read/seed_search").splitlines()[0]


def test_strip_comments_keeps_strings():
    text = "RETURN '// not a comment' AS a, \"/* nor this */\" AS b // gone\n/* gone */"
    assert cypher_loader.strip_comments(text).strip() == (
        "RETURN '// not a comment' AS a, \"/* nor this */\" AS b"
    )


# -- optional: Neo4j's own Cypher 5 parser and semantic analysis ------------------------------
LINT_DIR = os.environ.get("GRAPHMEM_CYPHER_LINT")
LINT_SCRIPT = r"""
const { createRequire } = require('node:module');
const fs = require('node:fs');
const lib = createRequire(process.argv[2] + '/')('@neo4j-cypher/language-support');
const schema = { ...(lib.testData.mockSchema || {}), defaultLanguage: 'CYPHER 5' };
const out = {};
for (const file of process.argv.slice(3)) {
  const query = fs.readFileSync(file, 'utf8');
  out[file] = lib.lintCypherQuery(query, schema, {}).diagnostics
    .filter((d) => !/^Parameter \$\w+ is not defined/.test(d.message))
    .filter((d) => !/is not present in the database/.test(d.message))
    .map((d) => d.message.replace(/\s+/g, ' '));
}
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(
    not LINT_DIR or not shutil.which("node"),
    reason="set GRAPHMEM_CYPHER_LINT to a dir with node_modules/@neo4j-cypher/language-support "
    "(npm install --prefix DIR @neo4j-cypher/language-support) to lint with Neo4j's parser",
)
def test_neo4j_cypher5_front_end_accepts_every_file(tmp_path):
    script = tmp_path / "lint.cjs"
    script.write_text(LINT_SCRIPT, encoding="utf-8")
    files = [str(CYPHER.joinpath(*name.split("/")).with_suffix(".cypher")) for name in ALL_NAMES]
    done = subprocess.run(
        ["node", str(script), str(Path(LINT_DIR).resolve()), *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    diagnostics = json.loads(done.stdout.strip().splitlines()[-1])
    problems = {Path(f).relative_to(CYPHER).as_posix(): d for f, d in diagnostics.items() if d}
    assert not problems, problems
    assert len(diagnostics) == len(ALL_NAMES)


# -- templates: relationship types written literally, only validated identifiers -----------
def test_relationship_types_are_template_placeholders_filled_only_with_identifiers():
    """Neo4j 5.26.0 reuses a dynamic relationship type of an UNWIND for every row, so the
    statement writing facts names its type with a placeholder that render() fills with a
    validated UPPER_SNAKE identifier, and nothing else."""
    assert cypher_loader.placeholders("write/create_facts") == ["RELATION"]
    text = cypher_loader.render("write/create_facts", RELATION="WORKS_AT")
    code, _ = _code_and_literals(text)
    assert "[r:`WORKS_AT`]" in code and "__RELATION__" not in text
    for bad in ("works_at", "KNOWS`]->(x) DETACH DELETE x //", "A" * 65, "", "1ABC", "A-B"):
        with pytest.raises(StoreError, match="refusing"):
            cypher_loader.render("write/create_facts", RELATION=bad)
    with pytest.raises(StoreError, match="takes"):
        cypher_loader.render("write/create_facts")
    with pytest.raises(StoreError, match="takes"):
        cypher_loader.render("read/ping", RELATION="WORKS_AT")
    # No statement writes a dynamic relationship type.
    for name in ALL_NAMES:
        code, _ = _code_and_literals(cypher_loader.load(name))
        assert not re.search(r"\[\s*\w*\s*:\s*\$\(", code), f"{name}: dynamic relationship type"
