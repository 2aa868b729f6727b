"""Failed and throttled logins, audited as one summary record per subject and window.

Anyone can send failed logins without an account, so they must not grow the append-only audit log
one record each. Every failure (or throttled refusal) is counted into a *pending summary* for its
subject and window (``HUIJIA_LOGIN_LOCK_SECONDS``, windows aligned to the epoch):

- per (account, action, window) for ``auth.login_failed`` and ``auth.login_throttled``: the count,
  how many distinct client addresses took part, up to ten of their networks masked to /24 (IPv4) or
  /48 (IPv6), first and last time;
- per (address, window) for refusals of an address locked for password spraying
  (``auth.login_throttled`` with ``per: "address"``): the count, how many distinct usernames it
  tried and its masked network. Varying the username buys no records.

Full addresses are personal data of whoever typed a wrong password (often the owner), so a summary
keeps only their number and masked networks; the store keeps digests of the addresses.

The record is written once, when the window has closed: by the ``accounts.cron.login_audit`` cron
job (every minute, on the worker or the embedded scheduler), or lazily by the subject's first event
in a later window. Pending summaries live in Redis when ``REDIS_URL`` is set (they survive an API
restart and are flushed by any process) and in-process otherwise; the embedded default flushes its
pending summaries, even of open windows, when it shuts down (``closed_early: true``).

A flush is idempotent: a flusher first takes an atomic claim on the summary (Redis ``SET NX`` with
an expiry, or the process's own dict), and then writes the record under the tenant's audit lock
only if no record carries the summary's id yet (see :func:`write_summary`), so a flusher that died
after writing and before clearing the pending entry causes no second record when its claim expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from core.accounts import throttle

log = logging.getLogger("huijia.accounts")

# How long after a window closes a summary is kept before it may expire unflushed (a day: the cron
# job runs every minute, so only a platform without any flusher for a day loses summaries).
RETAIN_SECONDS = 24 * 3600
# Failures counted by a request that read the clock just before the window closed may land a moment
# after: a summary is flushed only this long after its window ended.
GRACE_SECONDS = 2
CLAIM_SECONDS = 120
SAMPLE_NETWORKS = 10
FLUSH_BATCH = 500
# The in-process store keeps at most this many pending summaries (the oldest are flushed first).
LOCAL_MAX_PENDING = 50_000


def clock() -> float:
    """Wall-clock seconds; tests replace it to move between windows without sleeping."""
    return time.time()


def mask_address(ip: str) -> str:
    """The client's network, not the client: /24 for IPv4, /48 for IPv6, "-" when unparsable."""
    try:
        addr = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "-"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def _d(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Event:
    tenant_id: int
    username: str
    ip: str
    action: str
    by_address: bool = False


def _base() -> str:
    return f"{throttle.get_settings().job_queue}:login:auditsum"


def _pending_key() -> str:
    return f"{_base()}:pending"


def summary_key(ev: Event, bucket: int) -> str:
    """Names carry only digests of usernames and addresses."""
    per, subject = ("address", _d(ev.ip or "-")) if ev.by_address else ("account", _d(ev.username.lower()))
    return f"{_base()}:{ev.tenant_id}:{per}:{subject}:{ev.action}:{bucket}"


def _subject_pointer(key: str) -> str:
    return key.rsplit(":", 1)[0] + ":open"


# ---------------------------------------------------------------------------------------------
# Stores: the same operations on Redis and in-process.


class _RedisSummaries:
    def __init__(self, redis: Any) -> None:
        self.redis = redis

    async def add(self, key: str, ev: Event, now: float, window: int, window_end: int) -> str | None:
        """Count one event; returns the subject's previously open summary key when it differs."""
        member = _d(ev.username.lower()) if ev.by_address else _d(ev.ip or "-")
        ttl = window + RETAIN_SECONDS
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "count", 1)
            pipe.hsetnx(key, "first", repr(now))
            pipe.hset(key, mapping={"last": repr(now), "tenant": ev.tenant_id, "action": ev.action,
                                    "per": "address" if ev.by_address else "account", "window": window,
                                    "end": window_end})
            if ev.by_address:
                pipe.hsetnx(key, "network", mask_address(ev.ip))
            else:
                pipe.hsetnx(key, "username", ev.username)
                pipe.sadd(key + ":nets", mask_address(ev.ip))
                pipe.expire(key + ":nets", ttl)
            pipe.pfadd(key + ":distinct", member)
            pipe.expire(key, ttl)
            pipe.expire(key + ":distinct", ttl)
            pipe.zadd(_pending_key(), {key: window_end})
            pipe.set(_subject_pointer(key), key, ex=ttl, get=True)
            results = await pipe.execute()
        previous = results[-1]
        previous = previous.decode() if isinstance(previous, bytes) else previous
        return previous if previous and previous != key else None

    async def due(self, now: float, limit: int, everything: bool = False) -> list[str]:
        top = "+inf" if everything else now - GRACE_SECONDS
        keys = await self.redis.zrangebyscore(_pending_key(), "-inf", top, start=0, num=limit)
        return [k.decode() if isinstance(k, bytes) else k for k in keys]

    async def claim(self, key: str) -> str | None:
        token = uuid.uuid4().hex
        return token if await self.redis.set(key + ":claim", token, nx=True, ex=CLAIM_SECONDS) else None

    async def read(self, key: str) -> dict[str, Any] | None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(key)
            pipe.pfcount(key + ":distinct")
            pipe.srandmember(key + ":nets", SAMPLE_NETWORKS)
            raw, distinct, nets = await pipe.execute()
        if not raw:
            return None
        data = {k.decode(): v.decode() for k, v in raw.items()}
        data["distinct"] = int(distinct)
        data["networks"] = sorted(n.decode() for n in nets or [])
        return data

    async def floor(self, key: str, seq: int) -> int:
        # A key of its own that outlives the summary: a flusher that read the summary before another
        # cleared it must still find the first floor, not set a later one and miss the record.
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key + ":floor", seq, nx=True, ex=RETAIN_SECONDS)
            pipe.get(key + ":floor")
            _, value = await pipe.execute()
        return int(value)

    async def done(self, key: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key, key + ":distinct", key + ":nets")
            pipe.zrem(_pending_key(), key)
            await pipe.execute()

    async def release(self, key: str, token: str) -> None:
        if (await self.redis.get(key + ":claim") or b"").decode() == token:
            await self.redis.delete(key + ":claim")


class _LocalSummaries:
    """The embedded default: one process, so a dict is the whole truth (flushed at shutdown)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.pointers: dict[str, str] = {}
        self.claims: set[str] = set()
        self.floors: dict[str, int] = {}

    async def add(self, key: str, ev: Event, now: float, window: int, window_end: int) -> str | None:
        entry = self.data.get(key)
        if entry is None:
            entry = self.data[key] = {
                "count": 0, "first": repr(now), "tenant": ev.tenant_id, "action": ev.action,
                "per": "address" if ev.by_address else "account", "window": window, "end": window_end,
                "username": "" if ev.by_address else ev.username,
                "network": mask_address(ev.ip) if ev.by_address else "", "_distinct": set(), "_nets": set()}
        entry["count"] += 1
        entry["last"] = repr(now)
        entry["_distinct"].add(_d(ev.username.lower()) if ev.by_address else _d(ev.ip or "-"))
        if not ev.by_address and len(entry["_nets"]) < 1000:
            entry["_nets"].add(mask_address(ev.ip))
        pointer = _subject_pointer(key)
        previous = self.pointers.get(pointer)
        self.pointers[pointer] = key
        if len(self.pointers) > LOCAL_MAX_PENDING:
            self.pointers.clear()  # only a hint for lazy flushing; the cron job flushes regardless
        return previous if previous and previous != key else None

    async def due(self, now: float, limit: int, everything: bool = False) -> list[str]:
        keys = sorted((e["end"], k) for k, e in self.data.items()
                      if everything or e["end"] <= now - GRACE_SECONDS or len(self.data) > LOCAL_MAX_PENDING)
        return [k for _, k in keys[:limit]]

    async def claim(self, key: str) -> str | None:
        if key in self.claims:
            return None
        self.claims.add(key)
        return key

    async def read(self, key: str) -> dict[str, Any] | None:
        entry = self.data.get(key)
        if entry is None:
            return None
        out = {k: v for k, v in entry.items() if not k.startswith("_")}
        out["distinct"] = len(entry["_distinct"])
        out["networks"] = sorted(entry["_nets"])[:SAMPLE_NETWORKS]
        return out

    async def floor(self, key: str, seq: int) -> int:
        if len(self.floors) > LOCAL_MAX_PENDING:
            self.floors.clear()
        return self.floors.setdefault(key, seq)

    async def done(self, key: str) -> None:
        self.data.pop(key, None)

    async def release(self, key: str, token: str) -> None:
        self.claims.discard(key)


_local: _LocalSummaries | None = None


def _store() -> Any:
    global _local
    store = throttle._get_store()
    if isinstance(store, throttle._RedisStore):
        return _RedisSummaries(store.redis)
    if _local is None:
        _local = _LocalSummaries()
    return _local


def reset_local() -> None:
    """Tests: forget in-process pending summaries."""
    global _local
    _local = None


# ---------------------------------------------------------------------------------------------


async def note(tenant_id: int, username: str, ip: str, action: str, by_address: bool = False) -> None:
    """Count a failed or throttled login into its window's pending summary; flush the subject's
    previous window when this is its first event since that window."""
    now = clock()
    window = throttle.get_settings().login_lock_seconds
    bucket = int(now) // window
    ev = Event(tenant_id, username, ip, action, by_address)
    key = summary_key(ev, bucket)
    store = _store()
    previous = await store.add(key, ev, now, window, (bucket + 1) * window)
    if previous is not None:
        try:
            await flush_key(previous, now=now)
        except Exception:
            log.warning("lazy login audit flush failed", exc_info=True)


async def flush_due(*, now: float | None = None, everything: bool = False, limit: int = FLUSH_BATCH) -> int:
    """Write the summaries of closed windows (``everything``: of open ones too, at shutdown).
    Returns how many records this call wrote."""
    now = clock() if now is None else now
    store = _store()
    written = 0
    for key in await store.due(now, limit, everything):
        try:
            written += await flush_key(key, now=now, everything=everything)
        except Exception:
            log.warning("login audit flush failed", exc_info=True)
    return written


async def flush_key(key: str, *, now: float | None = None, everything: bool = False) -> int:
    now = clock() if now is None else now
    store = _store()
    token = await store.claim(key)
    if token is None:
        return 0  # another flusher has it
    try:
        data = await store.read(key)
        if data is None:  # flushed (or expired) already
            await store.done(key)
            return 0
        if int(data["end"]) > now - GRACE_SECONDS and not everything:
            return 0
        wrote = await write_summary(key, data, closed_early=int(data["end"]) > now)
        await store.done(key)
        return int(wrote)
    finally:
        await store.release(key, token)


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


def summary_id(key: str) -> str:
    return _d(key)


async def write_summary(key: str, data: dict[str, Any], closed_early: bool = False) -> bool:
    """Write the audit record of a claimed summary, unless a record with its id exists already.

    The first attempt notes the tenant's last audit ``seq`` with the summary (kept by every later
    attempt): its record, if written at all, comes after that, so looking for it reads only the
    records appended since, through the (tenant_id, seq) index, however long the log."""
    from core.actor import Actor
    from core.audit.services import AUDIT_LOCK_NAMESPACE, record
    from core.audit.tables import AuditRecord
    from core.context import tenant_scope
    from core.dbutil import advisory_xact_lock, raw, transaction
    from core.tenancy.queries import get_tenant

    tenant = await get_tenant(id=int(data["tenant"]))
    if tenant is None:
        return False  # the tenant was deactivated: nothing to write into
    window = int(data["window"])
    start = int(data["end"]) - window
    sid = summary_id(key)
    changes: dict[str, Any] = {
        "count": int(data["count"]), "window_start": _iso(start), "window_seconds": window,
        "first_at": _iso(float(data["first"])), "last_at": _iso(float(data["last"])), "per": data["per"],
        "summary": sid,
    }
    if data["per"] == "address":
        changes.update(accounts=data["distinct"], network=data.get("network", "-"))
        actor, target = Actor(None, ""), ("LoginAddress", data.get("network", "-"))
    else:
        changes.update(addresses=data["distinct"], networks=data["networks"])
        actor, target = Actor(None, data.get("username", "")), ("User", "")
    if closed_early:
        changes["closed_early"] = True
    with tenant_scope(tenant):
        head = await raw("SELECT coalesce(max(seq), 0) AS seq FROM audit_record WHERE tenant_id = {}", tenant.id)
        floor = await _store().floor(key, int(head[0]["seq"]))
        async with transaction():
            # record() takes the same lock again (re-entrant in one transaction): the check for a
            # record with this summary id and the write cannot interleave with another flusher's.
            await advisory_xact_lock(AUDIT_LOCK_NAMESPACE, tenant.id)
            rows = await AuditRecord.select(AuditRecord.changes).where(
                (AuditRecord.tenant_id == tenant.id) & (AuditRecord.seq > floor)
                & (AuditRecord.action == data["action"]))
            for r in rows:
                c = json.loads(r["changes"]) if isinstance(r["changes"], str) else r["changes"]
                if isinstance(c, dict) and c.get("summary") == sid:
                    return False
            await record(tenant, actor, data["action"], target[0], target[1], changes)
    return True


async def cron_flush(ctx: dict[str, Any]) -> int:
    """Batches until nothing closed is left, within most of the minute until the next run (many
    accounts attacked at once must not build a backlog that expires unwritten)."""
    deadline = time.monotonic() + 45
    total = 0
    while time.monotonic() < deadline:
        written = await flush_due()
        total += written
        if written < FLUSH_BATCH:
            return total
    return total


def cron_jobs() -> list[Any]:
    """Every minute: a summary is written within a minute (and the grace) of its window's end."""
    from arq import cron

    return [cron(cron_flush, name="accounts.cron.login_audit", second=5, unique=True)]


async def flush_on_shutdown() -> None:
    """The in-process store dies with the process: write what it holds, open windows included.
    Redis-held summaries stay for the cron job (writing open windows early would split them)."""
    if _local is not None and _local.data:
        await flush_due(everything=True, limit=LOCAL_MAX_PENDING)
