"""The PII keyring of this process, and key rotation (`huijia keys generate` / `huijia keys rotate`).

Keys come from settings (``HUIJIA_PII_KEYS`` = ``"k2:BASE64,k1:BASE64"``, first = active, and
``HUIJIA_PII_INDEX_KEY``). Rotation: generate a key, put it *first* in ``HUIJIA_PII_KEYS`` (keeping
the old ones after it), restart, then run ``huijia keys rotate``: it re-encrypts every stored token
that is not under the active key, table by table and tenant by tenant, in small committed batches
(so it can be interrupted and re-run). When it reports nothing left, the old key can be removed.

The blind-index key is not rotated this way: changing it means recomputing every index (a re-import).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from core.pii import Keyring, generate_key

# (table, token column, context field) of every encrypted column. Contexts are
# "<table>.<field>:<tenant id>" (see core.members.personal).
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("member", "id_number_enc", "member.id_number"),
    ("member", "phone_enc", "member.phone"),
    ("household_person", "id_number_enc", "household_person.id_number"),
    ("member_transfer", "id_masked_enc", "member_transfer.id_masked"),
)


@functools.lru_cache(maxsize=1)
def _cached(spec: str, index_key: str) -> Keyring:
    return Keyring.from_settings(spec, index_key)


def keyring() -> Keyring:
    """The keyring built from the current settings (cached; settings are read once per process)."""
    from core.settings import get_settings

    s = get_settings()
    return _cached(s.pii_keys, s.pii_index_keys)


def generate_entry(key_id: str | None = None) -> str:
    """A new ``key_id:BASE64`` entry to put first in HUIJIA_PII_KEYS."""
    key_id = key_id or "k" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
    # Validate the id the same way the keyring will.
    Keyring({key_id: b"\0" * 32}, key_id, b"\1" * 32)
    return f"{key_id}:{generate_key()}"


@dataclass
class RotationReport:
    active_key: str
    reencrypted: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.reencrypted.values())


async def rotate(tenant_code: str | None = None, batch: int = 500) -> RotationReport:
    """Re-encrypt every token not under the active key. Idempotent and restartable."""
    from core.dbutil import raw, transaction
    from core.tenancy.context import tenant_scope
    from core.tenancy.services import list_tenants

    ring = keyring()
    active = ring.active_key_id
    prefix = f"v1.{active}.%"
    report = RotationReport(active_key=active)
    for tenant in await list_tenants(include_platform=True):
        if tenant_code and tenant.code != tenant_code:
            continue
        with tenant_scope(tenant):
            for table, column, ctx_field in ENCRYPTED_COLUMNS:
                label = f"{table}.{column}"
                context = f"{ctx_field}:{tenant.id}"
                last_id = 0
                while True:
                    async with transaction():
                        rows: list[dict[str, Any]] = await raw(
                            f"SELECT id, {column} AS token FROM {table} WHERE tenant_id = {{}} AND id > {{}} "
                            f"AND {column} IS NOT NULL AND {column} NOT LIKE {{}} ORDER BY id LIMIT {int(batch)}",
                            tenant.id, last_id, prefix)
                        for row in rows:
                            last_id = row["id"]
                            try:
                                token = ring.reencrypt(row["token"], context=context)
                            except Exception:  # noqa: BLE001 - counted, never printed (no values)
                                report.failed[label] = report.failed.get(label, 0) + 1
                                continue
                            await raw(f"UPDATE {table} SET {column} = {{}} WHERE tenant_id = {{}} AND id = {{}}",
                                      token, tenant.id, row["id"])
                            report.reencrypted[label] = report.reencrypted.get(label, 0) + 1
                    if len(rows) < batch:
                        break
    return report


# ---------------------------------------------------------------------------------------------
# `huijia keys ...` (wired into core/cli.py)
# ---------------------------------------------------------------------------------------------


def _cmd_generate(args: Any) -> int:
    entry = generate_entry(args.key_id)
    print(entry)
    print("Put it FIRST in HUIJIA_PII_KEYS (keep the old keys after it), restart, then run `huijia keys rotate`.",
          file=__import__("sys").stderr)
    return 0


def _cmd_rotate(args: Any) -> int:
    import asyncio

    from core.cli import _with_db

    report = asyncio.run(_with_db(lambda: rotate(args.tenant, batch=args.batch)))
    print(f"active key: {report.active_key}")
    for label, n in sorted(report.reencrypted.items()):
        print(f"  re-encrypted {label}: {n}")
    for label, n in sorted(report.failed.items()):
        print(f"  FAILED {label}: {n} (a key they need is missing from HUIJIA_PII_KEYS)")
    print(f"total re-encrypted: {report.total}; nothing left under older keys" if not report.failed
          else "some tokens could not be re-encrypted; keep the old keys until they are fixed")
    return 1 if report.failed else 0


def add_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="PII encryption keys").add_subparsers(dest="sub", required=True)
    p = keys.add_parser("generate", help="print a new key entry for HUIJIA_PII_KEYS")
    p.add_argument("--key-id", help="default: k<UTC timestamp>")
    p.set_defaults(fn=_cmd_generate)
    p = keys.add_parser("rotate", help="re-encrypt every stored token under the active (first) key")
    p.add_argument("--tenant", help="only this tenant code")
    p.add_argument("--batch", type=int, default=500)
    p.set_defaults(fn=_cmd_rotate)
