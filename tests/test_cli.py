"""The `graphmem` command: common options on every command, JSON errors, clean errors for
missing files and databases, no model loaded by commands that embed nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from graphmem import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse (--version, usage errors)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path, capsys):
    path = str(tmp_path / "m.db")
    code, _, _ = run(
        capsys, "add", "--db", path, "--embedder", "hashing", "--user", "ana", "I live in Lisbon."
    )
    assert code == 0
    return path


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"graphmem {cli.VERSION}"


@pytest.mark.parametrize(
    "argv",
    [
        ["facts", "--user", "ana"],
        ["search", "--user", "ana", "where"],
        ["history", "abc"],
        ["delete", "abc"],
        ["export", "--user", "ana"],
        ["reprocess"],
    ],
)
def test_a_read_command_on_a_missing_db_says_so_and_creates_nothing(tmp_path, capsys, argv):
    path = tmp_path / "sub" / "none.db"
    code, out, _ = run(capsys, *argv, "--db", str(path), "--json")
    assert code == 2
    error = json.loads(out)["error"]
    assert error["type"] == "NotFoundError" and str(path) in error["message"]
    assert not path.exists() and not path.parent.exists()


def test_errors_are_json_with_json_and_text_without(db, capsys):
    code, out, _ = run(capsys, "history", "no-such-id", "--db", db, "--json")
    assert code == 2 and json.loads(out)["error"]["type"] == "NotFoundError"
    code, out, err = run(capsys, "history", "no-such-id", "--db", db)
    assert code == 2 and out == "" and err.startswith("graphmem: error: ")


def test_usage_errors_are_json_too(capsys):
    code, out, _ = run(capsys, "facts", "--bogus", "--json")
    assert code == 2
    assert json.loads(out)["error"]["type"] == "UsageError"


def test_a_missing_import_file_is_a_clean_error(tmp_path, capsys):
    code, out, err = run(
        capsys, "import", str(tmp_path / "nope.jsonl"), "--db", str(tmp_path / "x.db")
    )
    assert code == 2 and "no such file" in err and "Traceback" not in err
    assert not (tmp_path / "x.db").exists()


def test_every_command_takes_db_config_and_json(db, tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"embedder": {"provider": "hashing"}}))
    common = ["--db", db, "--config", str(config), "--json"]
    code, out, _ = run(capsys, "facts", "--user", "ana", *common)
    facts = json.loads(out)["results"]
    assert code == 0 and [f["target"] for f in facts] == ["Lisbon"]
    code, out, _ = run(capsys, "history", facts[0]["id"], *common)
    assert code == 0 and json.loads(out)[0]["id"] == facts[0]["id"]
    code, out, _ = run(capsys, "browse", "--user", "ana", *common)
    assert code == 0 and json.loads(out)["query"].startswith(":param partition")
    code, out, _ = run(capsys, "export", "--user", "ana", "-o", str(tmp_path / "e.jsonl"), *common)
    assert code == 0 and json.loads(out)["records"] > 0
    code, out, _ = run(capsys, "delete", facts[0]["id"], *common)
    assert code == 0 and "deleted" in json.loads(out)["message"]


def test_bulk_add_from_a_file(tmp_path, capsys):
    lines = tmp_path / "msgs.txt"
    lines.write_text('I live in Lisbon.\n{"content": "I work at Acme.", "name": "Bea"}\n')
    path = str(tmp_path / "m.db")
    code, out, _ = run(
        capsys,
        "add",
        "--file",
        str(lines),
        "--db",
        path,
        "--embedder",
        "hashing",
        "--user",
        "u",
        "--json",
    )
    assert code == 0
    assert [c["target"] for r in json.loads(out) for c in r["results"]] == ["Lisbon", "Acme"]


def test_register_command_adds_a_command(capsys, monkeypatch):
    def registrar(sub, common, scope):
        p = sub.add_parser("hello", parents=[common, scope])
        p.set_defaults(func=lambda args: print(f"hello {args.user}") or 0)

    monkeypatch.setattr(cli, "_REGISTRARS", [registrar])
    code, out, _ = run(capsys, "hello", "--user", "ana")
    assert code == 0 and out.strip() == "hello ana"


def test_commands_that_embed_nothing_load_no_model(db, tmp_path):
    """In a fresh interpreter: facts, history, delete, export and browse never import torch."""
    script = f"""
import sys
from graphmem.cli import main
db = {db!r}
main(["facts", "--user", "ana", "--db", db])
main(["history", "nope", "--db", db])
main(["export", "--user", "ana", "--db", db, "-o", {str(tmp_path / "e.jsonl")!r}])
main(["browse", "--user", "ana"])
loaded = [m for m in ("torch", "sentence_transformers") if m in sys.modules]
print("LOADED", loaded)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert "LOADED []" in done.stdout, done.stdout + done.stderr
