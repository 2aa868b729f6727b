"""Shared benchmark plumbing: a throwaway PostgreSQL database per run, servers on loopback, load."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import httpx

PG_ADMIN = os.environ.get("HUIJIA_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
APP_ROLE = "huijia_app_bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def create_database() -> str:
    name = f"huijia_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
            await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")
        await conn.execute(f"CREATE DATABASE {name} OWNER {APP_ROLE}")
    finally:
        await conn.close()
    return name


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


def app_dsn(db: str) -> str:
    return f"postgresql://{APP_ROLE}@127.0.0.1:5432/{db}"


@contextmanager
def server(args: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("server did not start: " + (proc.stderr.read() or b"").decode()[-3000:])
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def load(url: str, body: dict[str, Any] | None, headers: dict[str, str], *, concurrency: int, requests: int,
               check: Any = None, paths: list[str] | None = None, post_path: str = "/graphql") -> dict[str, float]:
    """Closed-loop load over raw keep-alive HTTP/1.1 sockets: `concurrency` connections each
    sending pre-encoded requests back to back (bounded count). A thin client on purpose: on a
    2-core machine an httpx client would eat the CPU the servers are measured on."""
    host, port = url.split("//", 1)[1].split(":")
    if paths:  # GET requests, connection i sending paths[i % len(paths)]
        requests_by_path = [(f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode() for p in paths]
    else:
        payload = json.dumps(body).encode()
        head = [f"POST {post_path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
                f"Content-Length: {len(payload)}"] + [f"{k}: {v}" for k, v in headers.items()]
        requests_by_path = [("\r\n".join(head) + "\r\n\r\n").encode() + payload]
    latencies: list[float] = []

    async def worker(n: int, request: bytes) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for i in range(n):
                t0 = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                data = await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                if b" 200 " not in status_line:
                    raise RuntimeError(f"bad response {status_line!r}: {data[:300]!r}")
                if i == 0 and check and not check(json.loads(data)):
                    raise RuntimeError(f"unexpected body: {data[:300]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    per = requests // concurrency
    await asyncio.gather(*[worker(per, requests_by_path[i % len(requests_by_path)]) for i in range(concurrency)])
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "n": len(latencies),
    }


def python() -> str:
    return sys.executable


# ---------------------------------------------------------------------------------------------
# Results that hold still: interleaved rounds, their median ratio and spread, the machine's load
# ---------------------------------------------------------------------------------------------

# Above this one-minute load average (on these 2-core machines) a run shares the CPU with something
# else, and its figures say more about the neighbour than about the code.
LOADED = 1.5
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def machine_load() -> float:
    return round(os.getloadavg()[0], 2)


# The load before this bench did anything (read when the bench imports this module): the figure
# that says whether something else was running. The load at the end counts the bench's own
# servers, clients and database backends, which keep both cores busy by design, so it is reported
# but does not decide whether the run was quiet.
LOAD_AT_START = machine_load()


def loaded_note(load_start: float) -> str | None:
    if load_start > LOADED:
        return (f"load {load_start} above {LOADED} before the bench started: the machine was busy with something "
                "else; compare figures only from a quiet run")
    return None


def cpu_times() -> tuple[int, int] | None:
    """(steal, total) jiffies of the whole machine so far, from /proc/stat (Linux); None elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return fields[7], sum(fields)


class Rounds:
    """Per-round ratios of ours to raw, measured interleaved (ours and raw alternate who goes first,
    so a drift in the machine's speed falls on both). ``ratio`` is their median; the spread shows
    whether the figure can be trusted at all. ``steal_pct`` is the share of the virtual machine's CPU
    time the host gave to others while the bench ran: the load average does not show it, and on a
    shared host it moves both sides' throughput by a factor of two within minutes."""

    def __init__(self) -> None:
        self.ratios: list[float] = []
        self.load_start = LOAD_AT_START
        self.cpu_start = cpu_times()

    def first(self, round_no: int) -> str:
        return "ours" if round_no % 2 else "raw"

    def add(self, ratio: float) -> None:
        self.ratios.append(ratio)

    def summary(self, digits: int = 3) -> dict[str, Any]:
        load_end = machine_load()
        out: dict[str, Any] = {
            "ratio": round(statistics.median(self.ratios), digits),
            "ratio_min": round(min(self.ratios), digits),
            "ratio_max": round(max(self.ratios), digits),
            "rounds": len(self.ratios),
            "load": {"start": self.load_start, "end": load_end},
        }
        cpu_end = cpu_times()
        if self.cpu_start and cpu_end and cpu_end[1] > self.cpu_start[1]:
            out["steal_pct"] = round(100 * (cpu_end[0] - self.cpu_start[0]) / (cpu_end[1] - self.cpu_start[1]), 1)
        note = loaded_note(self.load_start)
        if note:
            out["loaded"] = note
        return out


def result_line(bench: str, rounds: Rounds, target: str, **figures: Any) -> str:
    """The benchmark's last line: ``bench``, ``ratio`` and ``target`` first, then the spread and load,
    then the bench's own figures."""
    summary = rounds.summary()
    return json.dumps({"bench": bench, "ratio": summary.pop("ratio"), "target": target, **summary, **figures},
                      ensure_ascii=False)
