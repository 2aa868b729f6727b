"""One typed settings object, read from environment variables and validated at start-up.

Every problem is collected and reported together, naming the variable, so an operator fixes a
deployment in one pass instead of one crash at a time. Secret values are never echoed.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent

# Development-only secrets: the embedded default must start with no configuration at all, but a
# production deployment (HUIJIA_ENV=production) refuses to run with them.
_DEV_SECRET = "huijia-dev-secret-not-for-production"
_DEV_PII_KEYS = "dev1:" + base64.b64encode(b"huijia-dev-pii-key-32-bytes-long").decode()
_DEV_INDEX_KEY = base64.b64encode(b"huijia-dev-blind-index-key-32byt").decode()


class SettingsError(ValueError):
    """Raised with every invalid variable named."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    # The role that owns the tables (creates and alters them) when it is not the app's own: used by
    # `huijia migrate` only, never by the running app (see docs/operations.md).
    database_owner_url: str = ""
    redis_url: str | None = None
    secret_key: str = _DEV_SECRET
    token_ttl_seconds: int = 8 * 3600
    login_max_failures: int = 5
    login_lock_seconds: int = 15 * 60
    login_ip_max_failures: int = 50
    pii_keys: str = _DEV_PII_KEYS
    # "i2:BASE64,i1:BASE64" (first = active) from HUIJIA_PII_INDEX_KEYS, or the bare base64 key of
    # HUIJIA_PII_INDEX_KEY (deployments that never rotated it), which the keyring calls "i1".
    pii_index_keys: str = _DEV_INDEX_KEY
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    db_pool_max: int = 20
    # Let core.db.capture_queries see the SQL a block sends (query-count tests); off in production.
    db_query_capture: bool = False
    data_dir: Path = field(default=ROOT / "var")
    load_demo: bool = False
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 4000
    manual_entry_threshold_fen: int = 5_000_000
    job_queue: str = "huijia:queue"
    auth_cache_seconds: int = 5
    # Bearer token a Prometheus scraper sends for /metrics. Without one, production answers /metrics
    # only on the loopback address: request counts and paths are reconnaissance for anyone else.
    metrics_token: str = ""
    # Roster imports (core/members): upload size cap, and worker processes for row validation and
    # encryption of large files (-1 = automatic: up to 2, by CPU count; 0 = a helper thread only).
    import_max_bytes: int = 300 * 1024 * 1024
    import_workers: int = -1
    # Retention of stored files (core/members/retention.py): an upload not committed or discarded
    # within this many hours of its last activity, and a finished export this many hours after it
    # was made, are deleted by the hourly `members.purge` job (the rows stay, status "expired").
    import_retention_hours: int = 72
    export_retention_hours: int = 24
    # Job liveness (core/jobs/heartbeat.py): a running job writes a heartbeat this often; a run whose
    # heartbeat is older than the stale threshold is marked interrupted (its worker died).
    job_heartbeat_seconds: int = 5
    job_stale_seconds: int = 40

    @property
    def pii_index_key(self) -> str:
        """The index key spec (kept for callers of the single-key era; same value as pii_index_keys)."""
        return self.pii_index_keys

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        return Path(urlparse(self.database_url).path)


def _int(env: dict[str, str], name: str, default: int, errors: list[str], minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(f"{name}: expected an integer, got {raw!r}")
        return default
    if value < minimum:
        errors.append(f"{name}: must be >= {minimum}, got {value}")
    return value


def _index_keys(env: dict[str, str], errors: list[str]) -> str:
    """HUIJIA_PII_INDEX_KEYS, or the single HUIJIA_PII_INDEX_KEY, which the keyring calls "i1" (what
    every blind index written before index keys had ids is under). Both at once would be ambiguous."""
    many = env.get("HUIJIA_PII_INDEX_KEYS", "")
    one = env.get("HUIJIA_PII_INDEX_KEY", "")
    if many.strip() and one.strip():
        errors.append("HUIJIA_PII_INDEX_KEYS / HUIJIA_PII_INDEX_KEY: set one of them, not both "
                      "(put the old single key into the list as 'i1:BASE64')")
        return many
    if many.strip():
        return many
    if "HUIJIA_PII_INDEX_KEYS" in env:
        errors.append("HUIJIA_PII_INDEX_KEYS: empty; expected 'key_id:BASE64KEY[,key_id:BASE64KEY...]'")
        return many
    return env.get("HUIJIA_PII_INDEX_KEY", _DEV_INDEX_KEY)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    errors: list[str] = []
    environment = env.get("HUIJIA_ENV", "development")
    if environment not in ("development", "test", "production"):
        errors.append(f"HUIJIA_ENV: expected development, test or production, got {environment!r}")
    data_dir = Path(env.get("HUIJIA_DATA_DIR", str(ROOT / "var")))
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'huijia.sqlite3'}"
    scheme = urlparse(database_url).scheme
    if scheme not in ("sqlite", "postgres", "postgresql"):
        errors.append(f"DATABASE_URL: scheme must be sqlite or postgresql, got {scheme!r}")
    database_owner_url = env.get("DATABASE_OWNER_URL", "")
    if database_owner_url and not database_owner_url.startswith(("postgres://", "postgresql://")):
        errors.append("DATABASE_OWNER_URL: a separate owner role is for PostgreSQL; expected postgresql://…")
    redis_url = env.get("REDIS_URL") or None
    if redis_url and urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        errors.append("REDIS_URL: scheme must be redis:// or rediss://")
    secret = env.get("HUIJIA_SECRET_KEY", _DEV_SECRET)
    pii_keys = env.get("HUIJIA_PII_KEYS", _DEV_PII_KEYS)
    index_keys = _index_keys(env, errors)
    try:
        # Build the keyring once here so a malformed key list stops start-up with the others.
        from core.pii.crypto import Keyring

        Keyring.from_settings(pii_keys, index_keys)
    except ValueError as exc:  # the message names the variable and key id, never key material
        errors.append(str(exc))
    if environment == "production":
        if secret == _DEV_SECRET or len(secret) < 32:
            errors.append("HUIJIA_SECRET_KEY: set a random value of at least 32 characters in production")
        if pii_keys == _DEV_PII_KEYS or _DEV_INDEX_KEY in index_keys:
            errors.append("HUIJIA_PII_KEYS / HUIJIA_PII_INDEX_KEYS: the development keys cannot be used in production")
        if not database_url.startswith(("postgres", "postgresql")):
            errors.append("DATABASE_URL: production runs on PostgreSQL")
    if 0 < len(env.get("HUIJIA_METRICS_TOKEN", "")) < 16:
        errors.append("HUIJIA_METRICS_TOKEN: use at least 16 random characters")
    log_level = env.get("HUIJIA_LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        errors.append(f"HUIJIA_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    settings = Settings(
        env=environment,
        database_url=database_url,
        database_owner_url=database_owner_url,
        redis_url=redis_url,
        secret_key=secret,
        token_ttl_seconds=_int(env, "HUIJIA_TOKEN_TTL", 8 * 3600, errors, minimum=60),
        login_max_failures=_int(env, "HUIJIA_LOGIN_MAX_FAILURES", 5, errors, minimum=1),
        login_lock_seconds=_int(env, "HUIJIA_LOGIN_LOCK_SECONDS", 900, errors, minimum=1),
        login_ip_max_failures=_int(env, "HUIJIA_LOGIN_IP_MAX_FAILURES", 50, errors, minimum=1),
        pii_keys=pii_keys,
        pii_index_keys=index_keys,
        host=env.get("HUIJIA_HOST", "127.0.0.1"),
        port=_int(env, "HUIJIA_PORT", 8000, errors, minimum=1),
        log_level=log_level,
        db_pool_max=_int(env, "HUIJIA_DB_POOL_MAX", 20, errors, minimum=2),
        db_query_capture=env.get("HUIJIA_DB_QUERY_CAPTURE", "0") in ("1", "true", "yes"),
        data_dir=data_dir,
        load_demo=env.get("HUIJIA_DEMO", "0") in ("1", "true", "yes"),
        graphql_max_depth=_int(env, "HUIJIA_GRAPHQL_MAX_DEPTH", 12, errors, minimum=2),
        graphql_max_aliases=_int(env, "HUIJIA_GRAPHQL_MAX_ALIASES", 30, errors, minimum=1),
        graphql_max_tokens=_int(env, "HUIJIA_GRAPHQL_MAX_TOKENS", 4000, errors, minimum=100),
        job_queue=env.get("HUIJIA_JOB_QUEUE", "huijia:queue"),
        auth_cache_seconds=_int(env, "HUIJIA_AUTH_CACHE_SECONDS", 5, errors),
        metrics_token=env.get("HUIJIA_METRICS_TOKEN", ""),
        manual_entry_threshold_fen=_int(env, "HUIJIA_MANUAL_ENTRY_THRESHOLD_FEN", 5_000_000, errors),
        import_max_bytes=_int(env, "HUIJIA_IMPORT_MAX_BYTES", 300 * 1024 * 1024, errors, minimum=1024),
        import_workers=_int(env, "HUIJIA_IMPORT_WORKERS", -1, errors, minimum=-1),
        import_retention_hours=_int(env, "HUIJIA_IMPORT_RETENTION_HOURS", 72, errors, minimum=1),
        export_retention_hours=_int(env, "HUIJIA_EXPORT_RETENTION_HOURS", 24, errors, minimum=1),
        job_heartbeat_seconds=_int(env, "HUIJIA_JOB_HEARTBEAT_SECONDS", 5, errors, minimum=1),
        job_stale_seconds=_int(env, "HUIJIA_JOB_STALE_SECONDS", 40, errors, minimum=2),
    )
    if settings.job_stale_seconds < 2 * settings.job_heartbeat_seconds:
        # One late heartbeat (a busy database, a GC pause) must not declare a live run dead.
        errors.append(f"HUIJIA_JOB_STALE_SECONDS: must be at least twice HUIJIA_JOB_HEARTBEAT_SECONDS "
                      f"({settings.job_heartbeat_seconds}), got {settings.job_stale_seconds}")
    if errors:
        raise SettingsError("invalid settings:\n  - " + "\n  - ".join(errors))
    return settings


@lru_cache(maxsize=1)
def _loaded() -> Settings:
    return load_settings()


# Settings in force instead of the environment's, innermost last (override_settings).
_overrides: list[Settings] = []


def get_settings() -> Settings:
    return _overrides[-1] if _overrides else _loaded()


def reload_settings() -> None:
    """Read the environment again at the next get_settings()."""
    _loaded.cache_clear()


@contextlib.contextmanager
def override_settings(**changes: Any) -> Iterator[Settings]:
    """Run the block with some settings changed, for every caller of get_settings (tests: a lower
    login limit, no Redis, production mode). Process-wide, not per task: not for a running server."""
    changed = dataclasses.replace(get_settings(), **changes)
    _overrides.append(changed)
    try:
        yield changed
    finally:
        _overrides.remove(changed)
