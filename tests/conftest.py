"""Shared fixtures: deterministic clocks, fast in-memory Memory objects, the real MiniLM."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Never let a developer's real endpoint or key leak into tests.
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GRAPHMEM_LLM_MODEL"):
    os.environ.pop(_var, None)


class Clock:
    """An injectable clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_memory(clock=None, **config):
    from graphmem import Memory, MemoryConfig

    base = {
        "store": {"provider": "sqlite", "path": ":memory:"},
        "embedder": {"provider": "hashing", "dims": 256},
        "extractor": "rules",
    }
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return Memory(MemoryConfig.from_dict(base), clock=clock or Clock())


@pytest.fixture
def memory(clock):
    mem = make_memory(clock)
    yield mem
    mem.close()


@pytest.fixture(scope="session")
def minilm():
    """The real default embedder, loaded once per test session (a few seconds)."""
    from graphmem.embed.sentence import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


# -- GRAPHMEM_REQUIRE_NEO4J=1: the Neo4j legs must run (CI) ------------------------------------
# Without a server the Neo4j tests skip, which is right on a laptop and wrong in CI: a broken
# server start would turn the Neo4j suite green by skipping it. With GRAPHMEM_REQUIRE_NEO4J=1
# (set by README's test command and .ci/run) the session fails when NEO4J_URI is not set, when
# any test marked `neo4j` was skipped, or when none passed.
REQUIRE_NEO4J = "GRAPHMEM_REQUIRE_NEO4J"
_neo4j_tally: dict[str, list[str]] = {"passed": [], "skipped": []}


def neo4j_required() -> bool:
    return os.environ.get(REQUIRE_NEO4J, "").strip() not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    if neo4j_required() and not os.environ.get("NEO4J_URI"):
        raise pytest.UsageError(
            f"{REQUIRE_NEO4J}=1 but NEO4J_URI is not set: start a server first "
            '(eval "$(bash ../shared/neo4j/start.sh)"; README "Run on Neo4j")'
        )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "neo4j" not in report.keywords:
        return
    if report.skipped:
        _neo4j_tally["skipped"].append(f"{report.nodeid}: {report.longrepr}")
    elif report.passed and report.when == "call":
        _neo4j_tally["passed"].append(report.nodeid)


def neo4j_shortfall() -> str | None:
    """Why the Neo4j legs did not run as required, or None when they did."""
    passed, skipped = _neo4j_tally["passed"], _neo4j_tally["skipped"]
    if skipped:
        return f"{len(skipped)} Neo4j test(s) skipped:\n  " + "\n  ".join(skipped[:20])
    if not passed:
        return "no Neo4j test passed (none selected, or none ran)"
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if neo4j_required() and exitstatus == pytest.ExitCode.OK and neo4j_shortfall():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not neo4j_required():
        return
    shortfall = neo4j_shortfall()
    if shortfall:
        terminalreporter.section(f"{REQUIRE_NEO4J}=1: FAILED", sep="=", red=True)
        terminalreporter.line(shortfall)
    else:
        passed = len(_neo4j_tally["passed"])
        terminalreporter.line(f"{REQUIRE_NEO4J}=1: {passed} Neo4j tests passed, none skipped")
