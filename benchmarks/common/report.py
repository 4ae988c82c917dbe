"""Printed tables, JSON result files, and the machine description every result carries."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def default_out(name: str) -> Path:
    return RESULTS_DIR / f"{name}.json"


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.1f}"
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]], title: str | None = None) -> str:
    """A plain fixed-width table (Markdown-compatible pipes), so it pastes into docs."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    numeric = [
        all(_is_number(r[i]) for r in rows if r[i] is not None)
        and any(r[i] is not None for r in rows)
        for i in range(len(headers))
    ]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return "| " + " | ".join(parts) + " |"

    out = []
    if title:
        out.append(title)
        out.append("")
    out.append(line(headers))
    out.append(
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if numeric[i] else ("-" * (w + 2)) for i, w in enumerate(widths)
        )
        + "|"
    )
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "gpu": _gpu(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except Exception:  # pragma: no cover - torch is a dependency
        pass
    try:
        import sqlite3

        info["sqlite"] = sqlite3.sqlite_version
    except Exception:  # pragma: no cover
        pass
    info["graphmem_commit"] = _COMMIT_AT_START[0] if _COMMIT_AT_START else _git_commit()
    with contextlib.suppress(OSError):  # not on every platform
        info["loadavg_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    return info


def _gpu() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:  # pragma: no cover
        pass
    return "none"


_COMMIT_AT_START: list[str | None] = []


def record_start() -> None:
    """Remember the commit checked out when a benchmark starts: the code it imported. (A
    colleague may commit while a long run is going; write_json reports this one.)"""
    if not _COMMIT_AT_START:
        _COMMIT_AT_START.append(_git_commit())


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        commit = out.stdout.strip() or None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
        return f"{commit}{'+dirty' if dirty and commit else ''}" if commit else None
    except Exception:
        return None


def write_json(path: str | Path, payload: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **payload,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_default, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set):
        return sorted(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def print_approximations(items: list[str]) -> None:
    print("\nApproximations and definitions:")
    for item in items:
        print(f"  - {item}")
