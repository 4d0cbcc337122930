"""`navcycle dashboard rebuild` as an operator runs it, on a nats-server of the tests: a table
aligned by terminal columns, or one JSON line; no progress bar on a stderr that is no terminal."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from nats.aio.client import Client as NatsClient
from rich.cells import cell_len

CLI = [sys.executable, "-m", "services.cli.main"]


async def _rebuild(state: Path, nats_url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NAVCYCLE_STATE_DIR=str(state), NAVCYCLE_NATS_URL=nats_url)
    return await asyncio.to_thread(
        subprocess.run,
        [*CLI, "dashboard", "rebuild", *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_rebuild_prints_an_aligned_table_or_json(
    nc: NatsClient, nats_url: str, tmp_path: Path
) -> None:
    shown = await _rebuild(tmp_path, nats_url)
    assert shown.returncode == 0, shown.stderr
    assert "█" not in shown.stderr and "━" not in shown.stderr  # no bar drawn off a terminal
    header, rule, *rows = shown.stdout.rstrip().splitlines()
    assert header.split()[:2] == ["rebuilt", "重建"] and set(rule) == {"─"}
    labels = [r.split("  ")[0] for r in rows]
    assert labels == [
        "events 事件",
        "arrived while rebuilding 重建期间到达",
        "unreadable, skipped 无法读取而跳过",
        "checkpoint 检查点",
        "seconds 秒",
        "events/s 事件/秒",
    ]
    # every value starts at one terminal column, whatever the Chinese before it
    starts = {
        cell_len(r) - cell_len(r[len(label) :].lstrip())
        for r, label in zip(rows, labels, strict=True)
    }
    assert len(starts) == 1, rows

    as_json = await _rebuild(tmp_path, nats_url, "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    # the first rebuild recorded its own audit event, which the second one read
    assert report["events"] >= 1
    # The session's log holds other tests' unreadable events on purpose: both runs skip the same.
    skipped = next(r for r in rows if r.startswith("unreadable"))
    assert int(skipped.split()[-1]) == report["skipped"]
    assert report["stream_seq"] >= report["events"]
