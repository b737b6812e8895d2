"""Where a server's time goes during a step of ``bench/cast.py --profile``: ``py-spy record``
on the server process (raw, collapsed stacks), summed by the innermost layer a sample is in.

SQLAlchemy's async engine runs each statement in a greenlet, so py-spy's stacks of a coroutine
are cut there: the layers are read from the innermost frame outwards, not from the handler.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

# Innermost first: a sample counts for the first layer one of its frames (leaf upwards) is in.
LAYERS = [
    ("asyncpg", re.compile(r"\(asyncpg/")),
    ("SQLAlchemy", re.compile(r"\(sqlalchemy/|\(greenlet")),
    ("WebSocket protocol", re.compile(r"\(websockets/|\(uvicorn/protocols/websockets/")),
    ("msgspec / json", re.compile(r"\(msgspec/|\(json/")),
    ("structlog / logging", re.compile(r"\(structlog/|\(logging/")),
    ("gamekeeper: pub/sub, hub", re.compile(r"gamekeeper/infra/(live|pubsub)\.py")),
    ("gamekeeper: core and db", re.compile(r"gamekeeper/(core|db)/")),
    ("gamekeeper: gateway, middleware, rest", re.compile(r"gamekeeper/")),
    ("Litestar", re.compile(r"\(litestar/")),
    ("uvicorn", re.compile(r"\(uvicorn/")),
    ("event loop", re.compile(r"\(asyncio/|\(uvloop/|<frozen runpy>")),
]


def py_spy() -> str | None:
    found = Path(sys.executable).with_name("py-spy")
    return str(found) if found.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: float, out: Path) -> asyncio.subprocess.Process:
    """Start sampling ``pid`` for ``seconds`` (100 Hz) into ``out``; await ``.wait()``."""
    tool = py_spy()
    if tool is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return await asyncio.create_subprocess_exec(
        tool,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "100",
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def layers(raw: Path) -> dict[str, float]:
    """Share of the samples per layer, largest first."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        for frame in reversed(frames):
            name = next((name for name, pattern in LAYERS if pattern.search(frame)), None)
            if name is not None:
                counts[name] += int(n)
                break
        else:
            counts["other" if any(frames) else "no Python frame (uvloop, C)"] += int(n)
    total = sum(counts.values()) or 1
    return {name: n / total for name, n in counts.most_common()}


def hot(raw: Path, within: str = "gamekeeper/", top: int = 12) -> list[tuple[str, float]]:
    """The functions of ``within`` most often on the stack (share of the samples)."""
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        total += int(n)
        names = {re.sub(r":\d+\)$", ")", f) for f in stack.split(";") if within in f}
        for name in names:
            counts[name] += int(n)
    return [(name, n / max(1, total)) for name, n in counts.most_common(top)]
