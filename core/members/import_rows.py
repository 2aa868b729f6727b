"""Roster import, the pure part: validating, encrypting and blind-indexing rows (in a helper thread or
worker processes), and classifying them against the members they match (create, update, unchanged).

:mod:`core.members.importer` runs the jobs; this module touches no database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import pickle
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from core.members import personal, pii_keys
from core.members.validation import (
    CONFLICT,
    DUPLICATE,
    STATE,
    RowContext,
    clean_member,
    plugin_problems,
)

# (row_no, field, code, message)
RowError = tuple[int, str, str, str]


# ---------------------------------------------------------------------------------------------
# Row preparation (pure; runs in a thread or a worker process)
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Prepared:
    row_no: int
    name: str
    name_search: str
    id_number: str
    gender: str
    birth_date: dt.date
    phone: str | None
    org_unit_id: int
    employer: str
    work_status: str
    tags: tuple[str, ...]
    joined_on: dt.date | None
    given: tuple[str, ...]
    region_code: str | None
    id_bidx: bytes  # under the index key to write with
    phone_bidx: bytes | None
    id_enc: str | None = None
    phone_enc: str | None = None
    # The same values under the tenant's other index keys to match (only while a rotation is in
    # progress or pending): an existing member may still be under one of them.
    id_alt: tuple[bytes, ...] = ()
    phone_alt: tuple[bytes, ...] = ()


_CONTEXTS: dict[str, tuple[RowContext, bool, personal.IndexKeys]] = {}
WORKER_PEAK_RSS_KB = 0
_CTX_LOCK = threading.Lock()


def _init_worker(key: str, payload: bytes, owner_pid: int) -> None:
    _CONTEXTS[key] = pickle.loads(payload)
    threading.Thread(target=_exit_with_owner, args=(owner_pid,), name="import-owner-watch", daemon=True).start()


def _exit_with_owner(owner_pid: int) -> None:
    """Exit when the process that started this worker does. A killed ``huijia worker`` would leave
    its pool workers blocked on their task queue for good (each holds the queue's write end, so it
    never sees EOF), and with them the forkserver and the resource tracker, whose pipes they hold."""
    import os
    import select
    import time

    try:
        fd = os.pidfd_open(owner_pid)
    except (AttributeError, OSError):  # not Linux, or the owner is already gone
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:
        while True:
            time.sleep(1)
            try:
                os.kill(owner_pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
    os._exit(1)


def prepare_batch(key: str, rows: list[tuple[int, dict[str, Any]]]) -> tuple[list[Prepared], list[RowError]]:
    """Validate (core + plugin rules), blind-index and (for a commit) encrypt one batch of rows."""
    from core.plugins import hooks_for

    ctx, encrypt, ix = _CONTEXTS[key]
    tenant_id = ctx.tenant.id
    hook = hooks_for(ctx.tenant).member_validate if ctx.run_plugins else None
    index = indexer(ix)
    out: list[Prepared] = []
    errors: list[RowError] = []
    for row_no, values in rows:
        clean, problems = clean_member(values, ctx)
        if clean is not None and hook is not None:
            problems = plugin_problems(ctx, clean, None, hook)
        if problems:
            errors.extend((row_no, p.field, p.code, p.message) for p in problems)
            continue
        assert clean is not None
        phone = clean.phone
        item = Prepared(
            row_no, clean.name, clean.name_search, clean.id_number, clean.gender, clean.birth_date, phone,
            clean.org_unit_id, clean.employer, clean.work_status, clean.tags, clean.joined_on, clean.given,
            clean.region_code, b"", None,
        )
        index(item)
        out.append(item)
    if encrypt and out:
        # One call per column: the context, key and nonces are taken once per batch.
        ring = pii_keys.keyring()
        for item, token in zip(out, ring.encrypt_many([r.id_number for r in out],
                                                      context=personal.context("member", "id_number", tenant_id)),
                               strict=True):
            item.id_enc = token
        with_phone = [r for r in out if r.phone]
        for item, token in zip(with_phone, ring.encrypt_many([r.phone for r in with_phone],  # type: ignore[misc]
                                                             context=personal.context("member", "phone", tenant_id)),
                               strict=True):
            item.phone_enc = token
    return out, errors


def indexer(ix: personal.IndexKeys) -> Callable[[Prepared], None]:
    """A function that blind-indexes a row's ID number and phone under the write key, and under the
    other keys to match. The keys' HMAC prefixes are taken once here, not twice per row."""
    assert ix.match[0] == ix.write, "the write key leads the keys to match"
    id_digests, phone_digests = ix.id_matchers(), ix.phone_matchers()

    def index(item: Prepared) -> None:
        ids = [d(item.id_number) for d in id_digests]
        item.id_bidx, item.id_alt = ids[0], tuple(ids[1:])
        if item.phone:
            phones = [d(item.phone) for d in phone_digests]
            item.phone_bidx, item.phone_alt = phones[0], tuple(phones[1:])
        else:
            item.phone_bidx, item.phone_alt = None, ()

    return index


def _lookup_bidxs(rows: Sequence[Prepared]) -> list[bytes]:
    return [b for r in rows for b in (r.id_bidx, *r.id_alt)]


class Preparer:
    """Runs ``prepare_batch`` off the event loop: one helper thread, or N worker processes.
    ``ix``: the tenant's index keys when the job started (a commit batch re-checks them)."""

    def __init__(self, ctx: RowContext, encrypt: bool, workers: int, ix: personal.IndexKeys) -> None:
        self.key = uuid.uuid4().hex
        self.ix = ix
        self.executor: Executor
        if workers > 0:
            import multiprocessing
            import os

            payload = pickle.dumps((ctx, encrypt, ix))
            self.executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"),
                                                initializer=_init_worker, initargs=(self.key, payload, os.getpid()))
        else:
            with _CTX_LOCK:
                _CONTEXTS[self.key] = (ctx, encrypt, ix)
            self.executor = ThreadPoolExecutor(1, thread_name_prefix="member-import")
            # The helper thread is CPU-bound; with the default 5 ms GIL switch interval every small
            # database round trip of the event loop waited up to 5 ms for the GIL (measured: a third
            # of the commit's time). 0.5 ms gives the loop its turn promptly.
            self._interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._interval, 0.0005))

    def submit(self, rows: list[tuple[int, dict[str, Any]]]) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().run_in_executor(self.executor, prepare_batch, self.key, rows)

    def close(self) -> None:
        global WORKER_PEAK_RSS_KB
        for proc in list(getattr(self.executor, "_processes", {}).values()):
            try:  # peak resident set of each worker, for the benchmark's report
                with open(f"/proc/{proc.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            WORKER_PEAK_RSS_KB = max(WORKER_PEAK_RSS_KB, int(line.split()[1]))
            except OSError:
                pass
        self.executor.shutdown(wait=True, cancel_futures=True)
        with _CTX_LOCK:
            _CONTEXTS.pop(self.key, None)
            if hasattr(self, "_interval") and not any(k for k in _CONTEXTS):
                sys.setswitchinterval(self._interval)


# ---------------------------------------------------------------------------------------------
# Classification against existing members (shared by preview and commit)
# ---------------------------------------------------------------------------------------------

EXISTING_COLUMNS = ("id", "id_number_bidx", "state", "org_unit_id", "name", "employer", "work_status", "tags",
                    "joined_on", "phone_bidx", "phone_enc", "last_import_id", "last_import_row", "version")


@dataclass(slots=True)
class Plan:
    creates: list[Prepared] = field(default_factory=list)
    updates: list[tuple[Prepared, dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # row, existing, changes
    unchanged: list[tuple[Prepared, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _tags_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value or [])


def _same_phone(stored: bytes | None, r: Prepared) -> bool:
    """The stored phone blind index is the row's phone, under any of the keys to match."""
    stored = bytes(stored or b"")
    if r.phone_bidx is None:
        return not stored
    return stored == r.phone_bidx or stored in r.phone_alt


def plan_batch(rows: Sequence[Prepared], existing: dict[bytes, dict[str, Any]], import_id: int | None) -> Plan:
    """What each valid row would do: create, update (with the changed fields), or nothing; or why
    it cannot (a second row for one person, a member in a transfer, deceased, or in another union)."""
    plan = Plan()
    first_in_batch: dict[bytes, int] = {}
    for r in rows:
        # All rows of a batch are indexed under the same write key, so this finds repeats.
        earlier = first_in_batch.get(r.id_bidx)
        if earlier is not None:
            plan.errors.append((r.row_no, "id_number", DUPLICATE, f"与第{earlier}行是同一人（身份证号码重复）"))
            continue
        first_in_batch[r.id_bidx] = r.row_no
        # During an index key rotation the member may still be under the old key (or already under
        # the new one): one person, whichever key their row is under.
        e = existing.get(r.id_bidx)
        for alt in r.id_alt:
            if e is not None:
                break
            e = existing.get(alt)
        if e is None:
            plan.creates.append(r)
            continue
        if import_id is not None and e["last_import_id"] == import_id and e["last_import_row"] is not None \
                and e["last_import_row"] < r.row_no:
            plan.errors.append((r.row_no, "id_number", DUPLICATE, f"与第{e['last_import_row']}行是同一人（身份证号码重复）"))
            continue
        if e["state"] == "deceased":
            plan.errors.append((r.row_no, "id_number", STATE, "该人员已登记为去世，不能通过导入更新"))
            continue
        if e["state"] == "transferring":
            plan.errors.append((r.row_no, "id_number", STATE, "该人员正在办理会籍转移，转移办结前不能通过导入更新"))
            continue
        if e["state"] == "joined" and e["org_unit_id"] != r.org_unit_id:
            plan.errors.append((r.row_no, "org_unit", CONFLICT,
                                "该人员已是本省（市）其他基层工会的会员：调整所属工会须办理会籍转移"))
            continue
        changes: dict[str, Any] = {}
        if e["state"] == "left":
            changes["state"] = ["left", "joined"]
            if e["org_unit_id"] != r.org_unit_id:
                changes["org_unit_id"] = [e["org_unit_id"], r.org_unit_id]
        if e["name"] != r.name:
            changes["name"] = [e["name"], r.name]
        if "employer" in r.given and e["employer"] != r.employer:
            changes["employer"] = [e["employer"], r.employer]
        if "work_status" in r.given and e["work_status"] != r.work_status:
            changes["work_status"] = [e["work_status"], r.work_status]
        if "tags" in r.given and _tags_of(e["tags"]) != list(r.tags):
            changes["tags"] = [_tags_of(e["tags"]), list(r.tags)]
        if "joined_on" in r.given and e["joined_on"] != r.joined_on:
            changes["joined_on"] = [e["joined_on"].isoformat() if e["joined_on"] else None,
                                    r.joined_on.isoformat() if r.joined_on else None]
        if "phone" in r.given and not _same_phone(e["phone_bidx"], r):
            changes["phone"] = "changed"
        if changes:
            plan.updates.append((r, e, changes))
        else:
            plan.unchanged.append((r, e))
    return plan
