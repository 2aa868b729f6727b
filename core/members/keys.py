"""PII key rotation (`huijia keys generate | rotate | rotate-index`); the keyring itself is
:mod:`core.members.pii_keys`, below the codec and file store that rotation re-encrypts through.

Keys come from settings: ``HUIJIA_PII_KEYS`` = ``"k2:BASE64,k1:BASE64"`` (data keys, first =
active) and ``HUIJIA_PII_INDEX_KEYS`` = ``"i2:BASE64,i1:BASE64"`` (blind-index keys, first = active;
the single ``HUIJIA_PII_INDEX_KEY`` of older deployments is ``i1``). docs/operations.md has the
runbooks.

**Data keys** (``rotate``): generate a key, put it *first* in ``HUIJIA_PII_KEYS`` (keeping the old
ones after it), restart, run ``huijia keys rotate``. It re-encrypts every stored token not under the
active key in every column registered through ``register_encrypted_columns``, core's and plugins'
(table by table, tenant by tenant, in small committed batches, so it can be interrupted and
re-run), the tokens inside export filters, and the stored files of every area registered through
``register_file_stores`` (``FileStore.reencrypt_stored``). When it reports nothing left, the old key can be removed.

**Blind-index keys** (``rotate_index``): a digest cannot be converted from one key to another, it
must be recomputed from the value, so each registered indexed column is walked with its encrypted
twin: decrypt, HMAC under the new key, update. Per tenant, ``member_index_key`` records the key its indexes are
under and, while a rotation runs, the key it is moving to (``next_key_id``) and a checkpoint per
column. The protocol:

1. Start: under the tenant's index lock *exclusively* (writers hold it shared from reading the keys
   until they commit, ``personal.index_keys``), set ``next_key_id``. From then on every writer stores
   new values under the new key, and every lookup matches both keys, so a person is found whether
   their row was recomputed yet or not, and create/import dedupe cannot make a second row for them.
2. Walk each column in id order, in batches; each batch commits its updates with the checkpoint, so
   an interrupted rotation resumes where it stopped. Batches hold the tenant's import lock (a bulk
   import locks many member rows in another order: without it the two could deadlock), and update
   a row only if its blind index is still the one read (a concurrent edit has written the new key's
   value already). A recomputed value that another row of the tenant already holds means one person
   has two rows: it is counted as a conflict and left for a person to resolve.
3. Finish (only after a walk with no row left behind: undecryptable tokens or conflicts keep the
   rotation open and the next run walks again): record the new key, clear the checkpoint. Once
   every tenant reports the new key, the old one can be removed from the settings; start-up refuses
   to run without a key some tenant's indexes are still under.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.members import pii_keys
from core.members.pii_keys import generate_entry
from core.pii import Keyring

# The encrypted and blind-indexed columns rotation walks come from the registry
# (``register_encrypted_columns``): core's members and workers register theirs below, capability
# plugins theirs. Contexts are "<table>.<field>" plus ":<tenant id>" (see core.members.personal).


def member_columns() -> list[Any]:
    """Members' columns (core.members' ``register_encrypted_columns``)."""
    from core.interface import EncryptedColumn, IndexedColumn
    from core.members.personal import ID_PURPOSE, PHONE_PURPOSE

    return [
        IndexedColumn("member", "id_number_enc", "id_number_bidx", "member.id_number", ID_PURPOSE, unique=True),
        IndexedColumn("member", "phone_enc", "phone_bidx", "member.phone", PHONE_PURPOSE),
        IndexedColumn("household_person", "id_number_enc", "id_number_bidx", "household_person.id_number", ID_PURPOSE,
                      unique=True),
        EncryptedColumn("member_transfer", "id_masked_enc", "member_transfer.id_masked"),
    ]


def worker_columns() -> list[Any]:
    """Worker accounts' columns (core.workers' ``register_encrypted_columns``)."""
    from core.interface import IndexedColumn
    from core.members.personal import ID_PURPOSE, PHONE_PURPOSE

    return [
        # The phone is the login name, so unique; the ID number is not (a registration that could
        # not prove membership does not lock the real member out).
        IndexedColumn("worker_account", "id_number_enc", "id_number_bidx", "worker_account.id_number", ID_PURPOSE),
        IndexedColumn("worker_account", "phone_enc", "phone_bidx", "worker_account.phone", PHONE_PURPOSE, unique=True),
    ]


def _encrypted_columns() -> list[Any]:
    from core.registry import get_registry

    return get_registry().encrypted_columns


def _indexed_columns() -> list[Any]:
    from core.registry import get_registry

    return get_registry().indexed_columns


# Blind indexes inside member_export.filter: (blind-index key, token key, token context field, purpose).
EXPORT_FILTER_INDEXES: tuple[tuple[str, str, str, str], ...] = (
    ("id_bidx", "id_enc", "filter_id_number", "person.id_number"),
    ("phone_bidx", "phone_enc", "filter_phone", "person.phone"),
)

# Called with (column label, batch number) after each committed batch of an index rotation: a test
# raises here to simulate an interruption.
AfterBatch = Callable[[str, int], None]


async def _all_tenants() -> list[Any]:
    """Every tenant, inactive ones too: their rows are under the same keys."""
    from core.tenancy.services import tenant_from_row
    from core.tenancy.tables import Tenant

    return [tenant_from_row(r) for r in await Tenant.select().order_by(Tenant.id)]


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


# ---------------------------------------------------------------------------------------------
# Data keys
# ---------------------------------------------------------------------------------------------


@dataclass
class RotationReport:
    active_key: str
    reencrypted: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.reencrypted.values())

    def count(self, bucket: dict[str, int], label: str, n: int = 1) -> None:
        bucket[label] = bucket.get(label, 0) + n


async def rotate(tenant_code: str | None = None, batch: int = 500) -> RotationReport:
    """Re-encrypt every token and stored file not under the active key. Idempotent and restartable."""
    from core.context import tenant_scope
    from core.dbutil import raw, transaction

    ring = pii_keys.keyring()
    active = ring.active_key_id
    prefix = f"v1.{active}.%"
    report = RotationReport(active_key=active)
    for tenant in await _all_tenants():
        if tenant_code and tenant.code != tenant_code:
            continue
        with tenant_scope(tenant):
            for col in _encrypted_columns():
                table, column = col.table, col.column
                label = f"{table}.{column}"
                context = f"{col.context}:{tenant.id}"
                last_id = 0
                while True:
                    async with transaction():
                        rows: list[dict[str, Any]] = await raw(
                            f"SELECT id, {column} AS token FROM {table} WHERE tenant_id = {{}} AND id > {{}} "
                            f"AND {column} IS NOT NULL AND {column} <> '' AND {column} NOT LIKE {{}} ORDER BY id LIMIT {int(batch)}",
                            tenant.id, last_id, prefix)
                        for row in rows:
                            last_id = row["id"]
                            try:
                                token = ring.reencrypt(row["token"], context=context)
                            except Exception:
                                report.count(report.failed, label)
                                continue
                            await raw(f"UPDATE {table} SET {column} = {{}} WHERE tenant_id = {{}} AND id = {{}}",
                                      token, tenant.id, row["id"])
                            report.count(report.reencrypted, label)
                    if len(rows) < batch:
                        break
            await _rotate_export_filter_tokens(tenant, ring, batch, report)
            await _rotate_files(tenant, report)
    return report


async def _rotate_export_filter_tokens(tenant: Any, ring: Keyring, batch: int, report: RotationReport) -> None:
    """The encrypted ID/phone an export was filtered by (inside the filter JSON)."""
    from core.dbutil import transaction
    from core.members.personal import context
    from core.members.tables import MemberExport

    label = "member_export.filter"
    last_id = 0
    while True:
        async with transaction():
            rows = await MemberExport.select(MemberExport.id, MemberExport.filter).where(
                (MemberExport.tenant_id == tenant.id) & (MemberExport.id > last_id)
            ).order_by(MemberExport.id).limit(batch)
            for row in rows:
                last_id = row["id"]
                flt = _json(row["filter"])
                changed = False
                for _, token_key, ctx_field, _ in EXPORT_FILTER_INDEXES:
                    token = flt.get(token_key)
                    if not token or not ring.needs_rotation(token):
                        continue
                    try:
                        flt[token_key] = ring.reencrypt(token, context=context("member_export", ctx_field, tenant.id))
                        changed = True
                    except Exception:
                        report.count(report.failed, label)
                if changed:
                    await MemberExport.update({MemberExport.filter: flt}).where(
                        (MemberExport.tenant_id == tenant.id) & (MemberExport.id == row["id"]))
                    report.count(report.reencrypted, label)
        if len(rows) < batch:
            break


async def _rotate_files(tenant: Any, report: RotationReport) -> None:
    """Stored files of every area registered through ``register_file_stores`` (roster uploads and
    exports, ledger report files, capability attachments), encrypted at rest chunk by chunk. Labels:
    ``files.<kind>`` for the members area, ``files.<area>.<kind>`` for the others."""
    from core.registry import get_registry

    for area, st in sorted(get_registry().file_stores.items()):
        root = st.root()
        kinds = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.isidentifier()) if root.is_dir() else []
        for kind in kinds:
            label = f"files.{kind}" if area == "members" else f"files.{area}.{kind}"
            for object_id in st.stored_ids(kind, tenant.id):
                try:
                    changed = await asyncio.to_thread(st.reencrypt_stored, kind, tenant.id, object_id)
                except Exception:
                    report.count(report.failed, label)
                    continue
                if changed:
                    report.count(report.reencrypted, label)


# ---------------------------------------------------------------------------------------------
# Blind-index keys
# ---------------------------------------------------------------------------------------------


@dataclass
class IndexRotationReport:
    active_key: str
    tenants: dict[str, str] = field(default_factory=dict)  # tenant code -> outcome, for the operator
    recomputed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)  # tokens that could not be decrypted
    conflicts: dict[str, int] = field(default_factory=dict)  # one person, two rows
    skipped: dict[str, int] = field(default_factory=dict)  # export filters kept without their value
    unfinished: list[str] = field(default_factory=list)  # tenant codes not (yet) under the active key

    @property
    def ok(self) -> bool:
        return not self.unfinished

    @property
    def total(self) -> int:
        return sum(self.recomputed.values())

    def count(self, bucket: dict[str, int], label: str, n: int = 1) -> None:
        if n:
            bucket[label] = bucket.get(label, 0) + n


async def rotate_index(tenant_code: str | None = None, batch: int = 500,
                       after_batch: AfterBatch | None = None) -> IndexRotationReport:
    """Move every tenant's blind indexes to the active index key. Idempotent, resumable.
    ``after_batch``: called after each committed batch (see ``AfterBatch``)."""
    from core.context import tenant_scope

    target = pii_keys.keyring().active_index_key_id
    report = IndexRotationReport(active_key=target)
    for tenant in await _all_tenants():
        if tenant_code and tenant.code != tenant_code:
            continue
        with tenant_scope(tenant):
            outcome, finished = await _rotate_tenant_index(tenant, target, batch, report, after_batch)
        report.tenants[tenant.code] = outcome
        if not finished:
            report.unfinished.append(tenant.code)
    return report


async def _save_state(tenant: Any, **values: Any) -> None:
    from core.dbutil import utcnow
    from core.members.tables import MemberIndexKey

    columns = {getattr(MemberIndexKey, k): v for k, v in values.items()}
    await MemberIndexKey.update({**columns, MemberIndexKey.updated_at: utcnow()}).where(
        MemberIndexKey.tenant_id == tenant.id)


async def _rotate_tenant_index(tenant: Any, target: str, batch: int, report: IndexRotationReport,
                               after_batch: AfterBatch | None = None) -> tuple[str, bool]:
    """(what happened, for the operator; whether the tenant is now under ``target``)."""
    from core.actor import Actor
    from core.audit.services import record
    from core.dbutil import on_postgres, raw, transaction, utcnow
    from core.members import personal
    from core.members.tables import MemberIndexKey

    ring = pii_keys.keyring()
    moved: list[str] = []
    while True:
        state = await personal.index_state(tenant.id)
        if state is None:
            # No writer has stored a blind index for this tenant yet: nothing to recompute.
            await MemberIndexKey.insert(MemberIndexKey(tenant_id=tenant.id, key_id=target)).on_conflict(
                target=MemberIndexKey.tenant_id, action="DO NOTHING")
            continue
        key, goal = state["key_id"], state["next_key_id"]
        if goal is None:
            if key == target:
                return f"under {key}" + (f" (moved {' -> '.join(moved)})" if moved else " (nothing to do)"), True
            if key not in ring.index_key_ids:
                return f"cannot rotate: its indexes are under {key!r}, which is not in HUIJIA_PII_INDEX_KEYS", False
            async with transaction():
                # The barrier: wait for every writer that read the old key to commit, and make the
                # next ones read the new state.
                if on_postgres():
                    await raw("SELECT pg_advisory_xact_lock({}, {})", personal.INDEX_LOCK_NAMESPACE, tenant.id)
                fresh = await personal.index_state(tenant.id)
                if fresh is not None and fresh["next_key_id"] is None and fresh["key_id"] == key:
                    await _save_state(tenant, next_key_id=target, checkpoint={})
            continue
        missing = [k for k in (key, goal) if k not in ring.index_key_ids]
        if missing:
            return (f"cannot finish the rotation {key} -> {goal}: {', '.join(map(repr, missing))} not in "
                    "HUIJIA_PII_INDEX_KEYS"), False
        checkpoint = _json(state["checkpoint"])
        before = report.total
        left_behind = 0
        for col in _indexed_columns():
            left_behind += await _recompute_column(tenant, col.table, col.column, col.index_column, col.context,
                                                   col.purpose, col.unique, goal, checkpoint, batch, report,
                                                   after_batch)
        left_behind += await _recompute_export_filters(tenant, goal, checkpoint, batch, report, after_batch)
        if left_behind:
            # Keep the rotation open (lookups keep matching the old key) and walk again next time.
            await _save_state(tenant, checkpoint={})
            return (f"{key} -> {goal}: NOT finished, {left_behind} row(s) left under {key} (see the counts); "
                    "fix them and run again"), False
        await _save_state(tenant, key_id=goal, next_key_id=None, checkpoint={}, rotated_at=utcnow())
        async with transaction():
            await record(tenant, Actor(None, "keys rotate-index"), "member.index_key.rotate", "MemberIndexKey",
                         tenant.id, {"from": key, "to": goal, "recomputed": report.total - before})
        moved += [key, goal] if not moved else [goal]


async def _recompute_column(tenant: Any, table: str, enc_col: str, bidx_col: str, ctx: str, purpose: str,
                            unique: bool, goal: str, checkpoint: dict[str, Any], batch: int,
                            report: IndexRotationReport, after_batch: AfterBatch | None = None) -> int:
    """Recompute one blind-index column from its encrypted twin, from the checkpoint on. Returns
    how many rows had to be left under the old key."""
    from core.dbutil import on_postgres, raw, transaction
    from core.members.importer import IMPORT_LOCK_NAMESPACE

    ring = pii_keys.keyring()
    label = f"{table}.{bidx_col}"
    last_id = int(checkpoint.get(label, 0))
    left_behind = 0
    batch_no = 0
    while True:
        async with transaction():
            if on_postgres():
                await raw("SELECT pg_advisory_xact_lock({}, {})", IMPORT_LOCK_NAMESPACE, tenant.id)
            rows = await raw(
                f"SELECT id, {enc_col} AS token, {bidx_col} AS bidx FROM {table} WHERE tenant_id = {{}} AND id > {{}} "
                f"AND {enc_col} IS NOT NULL AND {enc_col} <> '' ORDER BY id LIMIT {int(batch)}", tenant.id, last_id)
            todo: list[tuple[int, bytes | None, bytes]] = []
            for row in rows:
                last_id = row["id"]
                try:
                    plain = ring.decrypt(row["token"], context=f"{ctx}:{tenant.id}")
                except Exception:
                    report.count(report.failed, label)
                    left_behind += 1
                    continue
                new = bytes.fromhex(ring.blind_index(plain, purpose=purpose, tenant_id=tenant.id, key_id=goal))
                old = bytes(row["bidx"]) if row["bidx"] is not None else None
                if old != new:
                    todo.append((row["id"], old, new))
            taken: dict[bytes, int] = {}
            if unique and todo:
                found = await raw(f"SELECT id, {bidx_col} AS bidx FROM {table} WHERE tenant_id = {{}} "
                                  f"AND {bidx_col} IN ({', '.join('{}' for _ in todo)})", tenant.id, *[t[2] for t in todo])
                taken = {bytes(r["bidx"]): r["id"] for r in found}
            done = 0
            for row_id, old, new in todo:
                if taken.get(new, row_id) != row_id:
                    report.count(report.conflicts, label)
                    left_behind += 1
                    continue
                # Only if the row still holds what we read: an edit since then wrote the new key's value.
                same = f"{bidx_col} IS NULL" if old is None else f"{bidx_col} = {{}}"
                done += len(await raw(f"UPDATE {table} SET {bidx_col} = {{}} WHERE tenant_id = {{}} AND id = {{}} "
                                      f"AND {same} RETURNING id", new, tenant.id, row_id, *([] if old is None else [old])))
            report.count(report.recomputed, label, done)
            checkpoint[label] = last_id
            await _save_state(tenant, checkpoint=checkpoint)
        batch_no += 1
        if after_batch is not None:
            after_batch(label, batch_no)
        if len(rows) < batch:
            return left_behind


async def _recompute_export_filters(tenant: Any, goal: str, checkpoint: dict[str, Any], batch: int,
                                    report: IndexRotationReport, after_batch: AfterBatch | None = None) -> int:
    """Blind indexes kept inside export filters, recomputed from the encrypted value kept beside
    them. (The export job recomputes them again when it runs; this keeps the stored filter true.)
    Filters stored before the value was kept have nothing to recompute from: counted as skipped."""
    from core.dbutil import transaction
    from core.members import personal
    from core.members.tables import MemberExport

    ring = pii_keys.keyring()
    label = "member_export.filter"
    last_id = int(checkpoint.get(label, 0))
    left_behind = 0
    batch_no = 0
    while True:
        async with transaction():
            rows = await MemberExport.select(MemberExport.id, MemberExport.filter).where(
                (MemberExport.tenant_id == tenant.id) & (MemberExport.id > last_id)
            ).order_by(MemberExport.id).limit(batch)
            for row in rows:
                last_id = row["id"]
                flt = _json(row["filter"])
                changed = False
                for bidx_key, token_key, ctx_field, purpose in EXPORT_FILTER_INDEXES:
                    if not flt.get(bidx_key):
                        continue
                    if not flt.get(token_key):
                        report.count(report.skipped, label)
                        continue
                    try:
                        plain = personal.decrypt(flt[token_key], "member_export", ctx_field, tenant.id)
                    except Exception:
                        report.count(report.failed, label)
                        left_behind += 1
                        continue
                    new = [ring.blind_index(plain, purpose=purpose, tenant_id=tenant.id, key_id=goal)]
                    if flt[bidx_key] != new:
                        flt[bidx_key] = new
                        changed = True
                if changed:
                    await MemberExport.update({MemberExport.filter: flt}).where(
                        (MemberExport.tenant_id == tenant.id) & (MemberExport.id == row["id"]))
                    report.count(report.recomputed, label)
            checkpoint[label] = last_id
            await _save_state(tenant, checkpoint=checkpoint)
        batch_no += 1
        if after_batch is not None:
            after_batch(label, batch_no)
        if len(rows) < batch:
            return left_behind


async def check_index_keys() -> None:
    """Start-up check: every index key some tenant's blind indexes are under (or are moving to) must
    be in HUIJIA_PII_INDEX_KEYS. Without it lookups would silently find nobody and dedupe would let
    the same person in twice, so the process refuses to start instead."""
    from core.context import tenant_scope
    from core.members import personal
    from core.settings import SettingsError

    ring = pii_keys.keyring()
    problems = []
    for tenant in await _all_tenants():
        with tenant_scope(tenant):
            state = await personal.index_state(tenant.id)
        if state is None:
            continue
        if state["key_id"] not in ring.index_key_ids:
            problems.append(f"tenant {tenant.code}: blind indexes are under index key {state['key_id']!r}")
        if state["next_key_id"] and state["next_key_id"] not in ring.index_key_ids:
            problems.append(f"tenant {tenant.code}: a rotation to index key {state['next_key_id']!r} is in progress")
    if problems:
        raise SettingsError(
            "HUIJIA_PII_INDEX_KEYS lacks index keys that stored blind indexes need "
            f"(configured: {', '.join(sorted(ring.index_key_ids))}):\n  - " + "\n  - ".join(problems)
            + "\nKeep every such key in HUIJIA_PII_INDEX_KEYS (after the active one) until `huijia keys rotate-index` "
            "reports every tenant under the active key.")


# ---------------------------------------------------------------------------------------------
# `huijia keys ...` (wired into core/cli.py)
# ---------------------------------------------------------------------------------------------


def _cmd_generate(args: Any) -> int:
    import sys

    entry = generate_entry(args.key_id, index=args.index)
    print(entry)
    if args.index:
        print("Put it FIRST in HUIJIA_PII_INDEX_KEYS (keep the old keys after it; the old single "
              "HUIJIA_PII_INDEX_KEY becomes 'i1:<it>'), restart every process, then run `huijia keys rotate-index`.",
              file=sys.stderr)
    else:
        print("Put it FIRST in HUIJIA_PII_KEYS (keep the old keys after it), restart, then run `huijia keys rotate`.",
              file=sys.stderr)
    return 0


def _cmd_rotate(args: Any) -> int:
    from core.dbutil import with_database as _with_db

    report = asyncio.run(_with_db(lambda: rotate(args.tenant, batch=args.batch)))
    print(f"active key: {report.active_key}")
    for label, n in sorted(report.reencrypted.items()):
        print(f"  re-encrypted {label}: {n}")
    for label, n in sorted(report.failed.items()):
        print(f"  FAILED {label}: {n} (a key they need is missing from HUIJIA_PII_KEYS, or a stored file is damaged)")
    print(f"total re-encrypted: {report.total}; nothing left under older keys" if not report.failed
          else "some tokens or files could not be re-encrypted; keep the old keys until they are fixed")
    return 1 if report.failed else 0


def _cmd_rotate_index(args: Any) -> int:
    from core.dbutil import with_database as _with_db

    report = asyncio.run(_with_db(lambda: rotate_index(args.tenant, batch=args.batch)))
    print(f"active index key: {report.active_key}")
    for code, outcome in report.tenants.items():
        print(f"  {code}: {outcome}")
    for title, bucket in (("recomputed", report.recomputed), ("FAILED (cannot decrypt)", report.failed),
                          ("CONFLICT (one person, two rows)", report.conflicts),
                          ("skipped (export filter kept without its value)", report.skipped)):
        for label, n in sorted(bucket.items()):
            print(f"  {title} {label}: {n}")
    print(f"total recomputed: {report.total}; " + (
        "every tenant is under the active index key" if report.ok
        else "not finished: keep the old index keys until a run reports every tenant under the active key"))
    return 0 if report.ok else 1


def add_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="PII encryption and blind-index keys").add_subparsers(dest="sub", required=True)
    p = keys.add_parser("generate",
                        help="print a new key entry for HUIJIA_PII_KEYS (or, with --index, HUIJIA_PII_INDEX_KEYS)")
    p.add_argument("--key-id", help="default: k<UTC timestamp> (i<UTC timestamp> with --index)")
    p.add_argument("--index", action="store_true", help="a blind-index key")
    p.set_defaults(fn=_cmd_generate)
    p = keys.add_parser("rotate", help="re-encrypt every stored token and file under the active (first) data key")
    p.add_argument("--tenant", help="only this tenant code")
    p.add_argument("--batch", type=int, default=500)
    p.set_defaults(fn=_cmd_rotate)
    p = keys.add_parser("rotate-index", help="recompute every blind index under the active (first) index key")
    p.add_argument("--tenant", help="only this tenant code")
    p.add_argument("--batch", type=int, default=500)
    p.set_defaults(fn=_cmd_rotate_index)
