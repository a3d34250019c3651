"""Writes benchmark results: one JSON file per benchmark and a Markdown table in docs/benchmarks.md."""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TABLE = ROOT / "docs" / "benchmarks.md"

HEADER = """# Benchmarks

Measured by `make bench` (`python -m bench`). Every figure is a ratio against a
reference run side by side in the same run on the same machine, never a timed
assertion in the tests. Raw results are in `bench/results/*.json`.
"""


def machine() -> str:
    import os

    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}"


def save(results: list[dict[str, Any]]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for result in results:
        result.setdefault("measured_at", stamp)
        result.setdefault("machine", machine())
        (RESULTS / f"{result['name']}.json").write_text(json.dumps(result, indent=2) + "\n")
    every = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(render(every))


def render(results: list[dict[str, Any]]) -> str:
    lines = [HEADER, "| benchmark | measure | sagebox | reference | ratio | target | met | measured |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for result in results:
        for row in result["rows"]:
            lines.append(
                f"| {result['name']} | {row['measure']} | {row['sagebox']} | {row.get('reference', '')} | "
                f"{row.get('ratio', '')} | {row.get('target', '')} | {row.get('met', '')} | {result['measured_at']} |"
            )
    lines.append("")
    for result in results:
        if result.get("notes"):
            lines += [f"**{result['name']}** ({result['machine']}): {result['notes']}", ""]
    return "\n".join(lines)
