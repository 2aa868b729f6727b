"""`huijia worker` as operators run it: a subprocess against the test database and Redis. It logs
JSON lines, and stopping it (SIGTERM) or killing it (SIGKILL, even mid-import) leaves none of the
processes it started (roster-import pool workers, the forkserver, the resource tracker) behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.members.members_helpers import import_state, make_id, roster_csv

UNIT = "sh-xuhui-kuaidi"


def session_processes(sid: int) -> list[tuple[int, str]]:
    """Live (non-zombie) processes of a session: the worker is started as a session leader, and
    everything it starts (forkserver, its children, the resource tracker) inherits the session."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append((int(entry), cmdline))
    return found


class Worker:
    def __init__(self, data_dir) -> None:
        env = {**os.environ, "HUIJIA_LOG_LEVEL": "INFO", "HUIJIA_IMPORT_WORKERS": "1", "HUIJIA_DATA_DIR": str(data_dir)}
        self.proc = subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    async def wait_for(self, predicate, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert self.proc.poll() is None, "worker exited:\n" + "\n".join(self.lines[-20:])
            assert time.monotonic() < deadline, "timed out:\n" + "\n".join(self.lines[-20:])
            await asyncio.sleep(0.2)

    def processes(self) -> list[tuple[int, str]]:
        return session_processes(self.proc.pid)

    async def assert_nothing_left(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.processes() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        left = self.processes()
        for pid, _ in left:  # clean up for the next test, then fail
            os.kill(pid, signal.SIGKILL)
        assert left == [], left


@pytest.fixture
def start_worker(file_store):
    """Start `huijia worker`; whatever a failing test leaves running is killed at teardown."""
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(file_store))
        return started[-1]

    yield start
    for worker in started:
        for pid, _ in worker.processes():
            os.kill(pid, signal.SIGKILL)
        if worker.proc.poll() is None:
            worker.proc.kill()
        worker.proc.wait(10)


@pytest.fixture
def file_store(tmp_path, settings_override):
    """The app (in this process) and the worker subprocess share one data directory, so one
    encrypted file store."""
    settings_override(data_dir=tmp_path)
    return tmp_path


def big_roster() -> bytes:
    """Over importer.PROCESS_MIN_BYTES, so the preview runs in worker processes."""
    from core.members.importer import PROCESS_MIN_BYTES

    rows = [[f"进程{i}", make_id(), UNIT, "", "某" * 60, "", "", ""] for i in range(PROCESS_MIN_BYTES // 200)]
    content = roster_csv(rows)
    assert len(content) > PROCESS_MIN_BYTES
    return content


async def upload(p, content: bytes) -> str:
    r = await p.api.client.post("/imports", params={"filename": "名册.csv"}, content=content,
                                headers={"authorization": f"Bearer {p.token}"})
    assert r.status_code == 201, r.text
    return r.json()["import"]["id"]


async def test_worker_logs_json_and_sigterm_after_an_import_leaves_no_processes(sh_admin, start_worker):
    worker = start_worker()
    await worker.wait_for(lambda: any("Starting worker" in line for line in worker.lines))
    gid = await upload(sh_admin, big_roster())
    seen_pool = False
    deadline = time.monotonic() + 120
    while (await import_state(sh_admin, gid))["status"] in ("UPLOADED", "PREVIEWING"):
        seen_pool = seen_pool or any("forkserver" in cmd for _, cmd in worker.processes())
        assert time.monotonic() < deadline
        await asyncio.sleep(0.3)
    state = await import_state(sh_admin, gid)
    assert state["status"] == "PREVIEWED" and state["totalRows"] > 0, state
    assert seen_pool or any("forkserver" in cmd for _, cmd in worker.processes()), "the preview ran without processes"

    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(30) == 0
    await worker.assert_nothing_left()
    lines = [line for line in worker.lines if line.strip()]
    assert lines, "the worker wrote no log"
    records = [json.loads(line) for line in lines]  # every line, or this raises
    assert any(r["logger"] == "arq.worker" and "SIGTERM" in r["msg"] for r in records), records[-5:]
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)


async def test_killed_worker_mid_import_leaves_no_processes(sh_admin, start_worker):
    worker = start_worker()
    await worker.wait_for(lambda: any("Starting worker" in line for line in worker.lines))
    await upload(sh_admin, big_roster())
    # Worker, resource tracker, forkserver and a pool worker: the import is under way.
    await worker.wait_for(lambda: sum("forkserver" in cmd for _, cmd in worker.processes()) >= 2, timeout=120)
    worker.proc.kill()
    worker.proc.wait(10)
    await worker.assert_nothing_left()


async def test_sigterm_mid_import_cancels_cleanly_and_leaves_no_processes(sh_admin, start_worker):
    worker = start_worker()
    await worker.wait_for(lambda: any("Starting worker" in line for line in worker.lines))
    gid = await upload(sh_admin, big_roster())
    await worker.wait_for(lambda: sum("forkserver" in cmd for _, cmd in worker.processes()) >= 2, timeout=120)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(60) == 0
    await worker.assert_nothing_left()
    records = [json.loads(line) for line in worker.lines if line.strip()]
    # Cancelled, not crashed: the reader thread was let finish instead of the generator being closed
    # under it ("generator already executing"), so the job is left to run again, not failed.
    assert not [r for r in records if r["level"] == "ERROR"], [r for r in records if r["level"] == "ERROR"]
    assert any("cancelled, will be run again" in r["msg"] for r in records), records[-5:]
    assert (await import_state(sh_admin, gid))["status"] in ("UPLOADED", "PREVIEWING")
