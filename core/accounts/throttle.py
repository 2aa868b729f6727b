"""Login throttling that slows attackers without locking the real owner out.

Failures are counted per (account, client address), per account and per client address, in
windows of ``HUIJIA_LOGIN_LOCK_SECONDS``:

- An address that failed ``HUIJIA_LOGIN_MAX_FAILURES`` times on an account is refused for that
  account with an exponential delay (60 s, doubling per further failure, capped at the window);
  the answer says for how long (``retryAfterSeconds``).
- The owner logging in from an address that has not failed is still let in, however many
  addresses guess. When an account has drawn ``4 ×`` that many failures from everywhere, a single
  failure locks an address out of it.
- An address that failed ``HUIJIA_LOGIN_IP_MAX_FAILURES`` times across accounts (password spraying)
  is refused for every account, with the same backoff.
- A tenant admin clears an account's locks with ``userUnlock``.

Counters live in Redis when REDIS_URL is set (shared by every API process; keys under the
deployment's queue name, like the job keys) and in-process otherwise (the embedded default is one
process). Only digests of usernames and addresses appear in key names.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from core.settings import get_settings

BASE_DELAY = 60
ACCOUNT_ATTACK_FACTOR = 4


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


class _LocalStore:
    """Counters and locks with expiry, in this process."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[int, float]] = {}

    def _live(self, key: str) -> tuple[int, float] | None:
        hit = self.data.get(key)
        if hit is None:
            return None
        if hit[1] <= time.monotonic():
            self.data.pop(key, None)
            return None
        return hit

    async def incr(self, key: str, ttl: int) -> int:
        hit = self._live(key)
        value = (hit[0] if hit else 0) + 1
        self.data[key] = (value, hit[1] if hit else time.monotonic() + ttl)
        if len(self.data) > 200_000:  # bounded: drop what expired
            for k in list(self.data):
                self._live(k)
        return value

    async def get(self, key: str) -> int:
        hit = self._live(key)
        return hit[0] if hit else 0

    async def lock(self, key: str, seconds: int) -> None:
        self.data[key] = (1, time.monotonic() + seconds)

    async def ttl(self, key: str) -> int:
        hit = self._live(key)
        return max(1, math.ceil(hit[1] - time.monotonic())) if hit else 0

    async def delete_prefix(self, prefix: str) -> None:
        for k in [k for k in self.data if k.startswith(prefix)]:
            self.data.pop(k, None)


class _RedisStore:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)

    async def incr(self, key: str, ttl: int) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl, nx=True)
            value, _ = await pipe.execute()
        return int(value)

    async def get(self, key: str) -> int:
        value = await self.redis.get(key)
        return int(value) if value else 0

    async def lock(self, key: str, seconds: int) -> None:
        await self.redis.set(key, 1, ex=seconds)

    async def ttl(self, key: str) -> int:
        value = await self.redis.ttl(key)
        return int(value) if value and value > 0 else 0

    async def delete_prefix(self, prefix: str) -> None:
        keys = [k async for k in self.redis.scan_iter(match=prefix + "*", count=500)]
        if keys:
            await self.redis.delete(*keys)


_store: Any = None
_store_loop: Any = None


def _get_store() -> Any:
    global _store, _store_loop
    import asyncio

    settings = get_settings()
    loop = asyncio.get_running_loop()
    if _store is None or (settings.redis_url and _store_loop is not loop):
        _store = _RedisStore(settings.redis_url) if settings.redis_url else _LocalStore()
        _store_loop = loop
    return _store


@dataclass(frozen=True)
class Keys:
    pair: str
    pair_lock: str
    account: str
    address: str
    address_lock: str
    account_prefix: str

    @classmethod
    def of(cls, tenant_id: int, username: str, ip: str) -> Keys:
        base = f"{get_settings().job_queue}:login"
        acct = f"{tenant_id}:{_h(username.lower())}"
        addr = _h(ip or "-")
        return cls(pair=f"{base}:acct:{acct}:pair:{addr}", pair_lock=f"{base}:acct:{acct}:lock:{addr}",
                   account=f"{base}:acct:{acct}:all", address=f"{base}:addr:{addr}",
                   address_lock=f"{base}:addrlock:{addr}", account_prefix=f"{base}:acct:{acct}:")


def _delay(over: int, window: int) -> int:
    return min(window, BASE_DELAY * 2 ** min(over, 20))


async def retry_after(keys: Keys) -> tuple[int, str]:
    """Seconds this (account, address) must wait (0 when it may try now), and which lock holds it:
    "address" (spraying, whatever the account) or "account"."""
    store = _get_store()
    address, pair = await store.ttl(keys.address_lock), await store.ttl(keys.pair_lock)
    return (address, "address") if address >= pair and address else (pair, "account")


async def failed(keys: Keys) -> int:
    """Count a failure; lock the pair or the address when they crossed their limits. Returns the
    account's failures in the window."""
    s = get_settings()
    store = _get_store()
    window = s.login_lock_seconds
    pair = await store.incr(keys.pair, window)
    account = await store.incr(keys.account, window)
    address = await store.incr(keys.address, window)
    limit = 1 if account >= ACCOUNT_ATTACK_FACTOR * s.login_max_failures else s.login_max_failures
    if pair >= limit:
        await store.lock(keys.pair_lock, _delay(pair - limit, window))
    if address >= s.login_ip_max_failures:
        await store.lock(keys.address_lock, _delay(address - s.login_ip_max_failures, window))
    return account


async def succeeded(keys: Keys) -> None:
    store = _get_store()
    await store.delete_prefix(keys.pair)
    await store.delete_prefix(keys.pair_lock)


async def unlock_account(tenant_id: int, username: str) -> None:
    """Clear every address's lock and count on the account (an admin's unlock)."""
    await _get_store().delete_prefix(Keys.of(tenant_id, username, "").account_prefix)


def reset_local() -> None:
    """Tests: forget in-process counters."""
    global _store
    _store = None


async def rate_limit(name: str, subject: str, limit: int, window_seconds: int) -> int:
    """A fixed-window counter for anything that is not a login (public reads, check-ins): count one
    hit of ``subject`` under ``name`` and return 0 while at most ``limit`` hits fell in the current
    window, else the seconds until it ends. Shares the login counters' store (Redis when configured,
    so every API process counts together); only a digest of ``subject`` is in the key."""
    store = _get_store()
    key = f"{get_settings().job_queue}:rl:{name}:{_h(subject)}"
    count = await store.incr(key, window_seconds)
    if count <= limit:
        return 0
    return await store.ttl(key) or window_seconds


async def count_event(kind: str, subject: str, window: int) -> tuple[int, int]:
    """Count one ``kind`` event (say, a self-registration) from ``subject`` (say, a client address)
    in a fixed window of ``window`` seconds: (events so far in the window, seconds until it ends).
    Only a digest of the subject appears in the key."""
    store = _get_store()
    key = f"{get_settings().job_queue}:{kind}:{_h(subject or '-')}"
    n = await store.incr(key, window)
    return n, await store.ttl(key)
