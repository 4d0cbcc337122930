"""A filing's file streams through the gateway to the object store: a 50 MB plan is filed with
memory far below its size, a file over the limit is refused while it arrives (the rest is never
read) and leaves nothing staged, a ZIP bomb is refused from its staged object, and staging left by
a crash is swept when the gateway starts. Against the Temporal dev server, the services on a real
nats-server, the local object store, and the gateway in process."""

from __future__ import annotations

import hashlib
import io
import os
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient

from services.gateway.upload_stream import STAGING
from tests.conftest import DevStack, Stack
from tests.helpers import until, until_json
from tests.integration.test_filing_answers import (
    TARGETS,
    GatedActivities,
    gated,  # noqa: F401 - the fixture
    gateway,
    open_cycle,
)
from tests.integration.test_refused_upload import _objects

MIB = 1024 * 1024


class MadeUpPdf:
    """A PDF of ``size`` bytes made up as the client reads it: the test holds none of it."""

    def __init__(self, size: int) -> None:
        self.left, self.read_bytes = size, 0
        self.digest = hashlib.sha256()
        self._head = b"%PDF-1.4\n% a long plan\n"

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        chunk = self._head[:n] + b"0" * (n - len(self._head[:n]))
        self._head = self._head[n:]
        self.left -= n
        self.read_bytes += n
        self.digest.update(chunk)
        return chunk


async def _plan_filing(http: httpx.AsyncClient, path: str, who: dict[str, str]) -> None:
    await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")


def _staged(stack: Stack) -> list[str]:
    return [key for key in _objects(stack) if key.startswith(f"{STAGING}/")]


def _form(body: Any, name: str = "plan.pdf") -> dict[str, Any]:
    return {"files": {"file": (name, body, "application/pdf")}, "data": {"targets": TARGETS}}


async def test_a_50_mb_plan_is_filed_with_memory_far_below_its_size(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],  # noqa: F811
) -> None:
    task_queue, acts = gated
    acts.gate.set()
    year, path = await open_cycle(stack, dev_stack, task_queue)
    settings = {"task_queue": task_queue, "update_answer_wait_s": 0}
    async with gateway(stack, dev_stack, nc, tmp_path, **settings) as (http, who):
        await _plan_filing(http, path, who)
        body = MadeUpPdf(50_000_000)
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            resp = await http.post(f"{path}/plan", headers=who, **_form(body))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert resp.status_code in (201, 202), resp.text
    grew = peak - base
    assert grew < 16 * MIB, f"{grew / MIB:.1f} MiB for a 50 MB upload"
    digest = body.digest.hexdigest()
    stored = await stack.objects.stat(
        f"documents/filing-answers/{year}/zz-biomed/plan/{digest}.pdf"
    )
    assert stored is not None and (stored.size, stored.sha256) == (50_000_000, digest)
    assert _staged(stack) == []


async def test_a_file_over_the_limit_is_refused_as_it_arrives_and_leaves_nothing(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],  # noqa: F811
) -> None:
    task_queue, _ = gated
    _, path = await open_cycle(stack, dev_stack, task_queue)
    settings = {"task_queue": task_queue, "upload_max_bytes": 2 * MIB}
    async with gateway(stack, dev_stack, nc, tmp_path, **settings) as (http, who):
        await _plan_filing(http, path, who)
        before = _objects(stack)
        body = MadeUpPdf(40 * MIB)
        resp = await http.post(f"{path}/plan", headers=who, **_form(body))
        assert (resp.status_code, resp.json()["code"]) == (413, "file_too_large"), resp.text
        assert resp.json()["limit"] == 2 * MIB
        assert body.read_bytes < 4 * MIB, f"{body.read_bytes} bytes read past a 2 MiB limit"
        assert _objects(stack) == before
        assert _staged(stack) == []
        state = (await http.get(path, headers=who)).json()
        assert state["stage"] == "plan_filing" and not state["plan_filed"]


async def test_a_zip_bomb_is_refused_from_its_staged_object_and_leaves_nothing(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],  # noqa: F811
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(20_000):
            archive.writestr(f"f{i}.txt", b"")
    task_queue, _ = gated
    _, path = await open_cycle(stack, dev_stack, task_queue)
    async with gateway(stack, dev_stack, nc, tmp_path, task_queue=task_queue) as (http, who):
        await _plan_filing(http, path, who)
        before = _objects(stack)
        form = _form(out.getvalue(), "plan.zip")
        resp = await http.post(f"{path}/plan", headers=who, **form)
        assert (resp.status_code, resp.json()["code"]) == (422, "unsafe_archive"), resp.text
        assert resp.json()["reason"] == "too_many_entries"
        assert _objects(stack) == before
        assert _staged(stack) == []


async def test_staging_left_by_a_crash_is_swept_when_the_gateway_starts(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
) -> None:
    root: Path = stack.objects._root
    (root / STAGING).mkdir(parents=True, exist_ok=True)
    stale, fresh = root / STAGING / "crashed", root / STAGING / "uploading"
    stale.write_bytes(b"%PDF-1.4 half a plan")
    fresh.write_bytes(b"%PDF-1.4 a plan on its way")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    async with gateway(stack, dev_stack, nc, tmp_path):
        await until(lambda: not stale.exists(), what="the stale staging swept", every=0.1)
    assert fresh.exists()
    fresh.unlink()


def _raw(parts: list[tuple[str, str | None, bytes]], end: bool = True) -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--xyz\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + (b"--xyz--\r\n" if end else b"")


async def test_malformed_multipart_bodies_are_refused_precisely_and_leave_nothing(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],  # noqa: F811
) -> None:
    task_queue, _ = gated
    _, path = await open_cycle(stack, dev_stack, task_queue)
    pdf = b"%PDF-1.4\n" + b"1" * 200_000
    targets = ("targets", None, TARGETS.encode())
    multipart = "multipart/form-data; boundary=xyz"
    cases = [
        ("no boundary", "multipart/form-data", _raw([targets]), 400, "invalid_upload"),
        ("not multipart", multipart, b"just some bytes", 400, "invalid_upload"),
        (
            "cut off in the file",
            multipart,
            _raw([("file", "p.pdf", pdf)])[:-40],
            400,
            "invalid_upload",
        ),
        (
            "two files",
            multipart,
            _raw([("file", "a.pdf", pdf), ("file", "b.pdf", pdf), targets]),
            422,
            "invalid_upload",
        ),
        (
            "a path for a name",
            multipart,
            _raw([("file", "../p.pdf", pdf), targets]),
            422,
            "invalid_filename",
        ),
        ("no file", multipart, _raw([targets]), 422, "invalid_request"),
        (
            "an empty file",
            multipart,
            _raw([("file", "p.pdf", b""), targets]),
            422,
            "invalid_upload",
        ),
    ]
    async with gateway(stack, dev_stack, nc, tmp_path, task_queue=task_queue) as (http, who):
        await _plan_filing(http, path, who)
        before = _objects(stack)
        for what, content_type, body, status, code in cases:
            headers = {**who, "Content-Type": content_type}
            resp = await http.post(f"{path}/plan", headers=headers, content=body)
            assert (resp.status_code, resp.json()["code"]) == (status, code), (what, resp.text)
            assert _objects(stack) == before, what
        state = (await http.get(path, headers=who)).json()
        assert not state["plan_filed"]
