"""Start `python -m graphmem.cli serve` as a child process on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """The environment for a child graphmem process: this checkout first on sys.path, offline,
    and no LLM endpoint (the rules extractor)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["HF_HUB_OFFLINE"] = "1"
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GRAPHMEM_LLM_MODEL"):
        env.pop(var, None)
    return env


def start_serve(db: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """`graphmem serve --port 0` over a SQLite file with the hashing embedder; returns the
    process and its base URL once /v1/health answers."""
    cmd = [sys.executable, "-m", "graphmem.cli", "serve", "--db", str(db)]
    cmd += ["--embedder", "hashing", "--port", "0", "--log-level", "warning", *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(), stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "graphmem serve: http://" not in line:
        proc.kill()
        raise RuntimeError(f"graphmem serve did not start: {line}{proc.stderr.read()}")
    url = line.split()[2]
    for _ in range(1000):
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("graphmem serve did not answer /v1/health")
