"""Reads of members, history, households, transfers, imports and exports.

Every query filters on ``tenant_id`` (row-level security is the second fence). Member search is raw
SQL so it can use the indexes the fence migration builds (see docs/members.md for the plans at
1,000,000 members): prefix ranges on ``name_search`` (never ``LIKE $1``, which a generic prepared
plan cannot turn into an index range), exact blind-index matches, org subtrees through the
``org_unit.path`` index, and tag containment through GIN on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.custom_types import Combinable

from core.context import TenantContext
from core.dbutil import on_postgres, raw
from core.members.personal import prefix_upper_bound
from core.members.tables import (
    Household,
    HouseholdPerson,
    Member,
    MemberExport,
    MemberHistory,
    MemberImport,
    MemberImportError,
    MemberTransfer,
)

MEMBER_COLUMNS = ("id", "org_unit_id", "name", "gender", "birth_date", "id_number_enc", "phone_enc", "employer",
                  "work_status", "tags", "state", "joined_on", "left_on", "household_id", "version", "created_at",
                  "updated_at")
_SELECT = ", ".join(f"m.{c}" for c in MEMBER_COLUMNS)

ORDERS = {"NAME": ("m.name_search", "m.id"), "CREATED": ("m.id",), "JOINED_ON": ("m.joined_on", "m.id")}
# Orders whose columns are never NULL can page by key (seek) instead of OFFSET: a page 10,000 deep
# costs what the first page costs. JOINED_ON may be NULL, so it keeps OFFSET.
KEYSET_ORDERS = {"NAME": ("name_search", "id"), "CREATED": ("id",)}

# Lists in name order sort as Chinese readers expect, by pinyin (张 after 李 after 陈), not by code
# point. PostgreSQL: ICU's zh collation (pinyin), when the server has ICU, with its own indexes
# (migrations/members/*_pinyin.py); name_search itself stays COLLATE "C" for prefix ranges.
# SQLite: ``core.db``'s zh_pinyin collation (GB 2312 order, which is pinyin order for the 3,755
# common characters). Without either, code-point order.
PG_NAME_COLLATION = "zh-x-icu"
_pg_collation: bool | None = None


async def name_collation() -> str:
    """The COLLATE clause for sorting names on this database ("" when there is none)."""
    global _pg_collation
    if not on_postgres():
        from core.db import SQLITE_NAME_COLLATION

        return f" COLLATE {SQLITE_NAME_COLLATION}"
    if _pg_collation is None:
        rows = await raw("SELECT count(*) AS n FROM pg_collation WHERE collname = {}", PG_NAME_COLLATION)
        _pg_collation = bool(rows and rows[0]["n"])
    return f' COLLATE "{PG_NAME_COLLATION}"' if _pg_collation else ""


def _sorted_by(column: str, collation: str) -> str:
    return f"{column}{collation}" if column.endswith("name_search") else column


@dataclass(frozen=True)
class MemberFilter:
    name_prefix: str | None = None
    # Exact ID number / phone: the blind index, or several (one per index key to match while the
    # tenant's index key is being rotated); a member matching any of them matches.
    id_bidx: bytes | Sequence[bytes] | None = None
    phone_bidx: bytes | Sequence[bytes] | None = None
    org_unit_id: int | None = None
    subtree_path: str | None = None
    states: Sequence[str] | None = None
    work_statuses: Sequence[str] | None = None
    tags: Sequence[str] | None = None
    household_id: int | None = None
    # The searched ID number / phone, encrypted (only for a stored export filter, never searched on):
    # the export job and a blind-index key rotation recompute the blind indexes from them.
    id_enc: str | None = None
    phone_enc: str | None = None

    def to_json(self) -> dict[str, Any]:
        """For storing an export's filter: blind indexes as hex and the encrypted tokens, never the
        values searched for."""
        def plain(v: Any) -> Any:
            if isinstance(v, bytes):
                return v.hex()
            if isinstance(v, (list, tuple)):
                return [x.hex() if isinstance(x, bytes) else x for x in v]
            return v

        return {k: plain(v) for k, v in self.__dict__.items() if v not in (None, [], ())}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MemberFilter:
        values = dict(data)
        for key in ("id_bidx", "phone_bidx"):
            if values.get(key):
                v = values[key]
                values[key] = bytes.fromhex(v) if isinstance(v, str) else tuple(bytes.fromhex(x) for x in v)
        return cls(**values)


def _bidx_values(value: bytes | Sequence[bytes]) -> list[bytes]:
    return [value] if isinstance(value, bytes) else list(value)


def _bidx_clause(column: str, value: bytes | Sequence[bytes]) -> tuple[str, list[Any]]:
    values = _bidx_values(value)
    if not values:
        return "1 = 0", []
    if len(values) == 1:
        return f"{column} = {{}}", values
    return f"{column} IN ({', '.join('{}' for _ in values)})", values


def _unit_scope(paths: Sequence[str]) -> tuple[str, list[Any]]:
    clauses, args = [], []
    for p in paths:
        clauses.append("u.path LIKE {}")
        args.append(p + "%")
    return "(" + " OR ".join(clauses) + ")", args


def _is_root(path: str) -> bool:
    return path.count("/") == 2  # "/<id>/"


async def _unit_ids(tenant: TenantContext, paths: Sequence[str], scope_paths: Sequence[str] | None) -> list[int]:
    """Ids of the org units under every one of ``paths`` and under any of ``scope_paths``."""
    sql = ["tenant_id = {}"]
    args: list[Any] = [tenant.id]
    for p in paths:
        sql.append("path LIKE {}")
        args.append(p + "%")
    if scope_paths:
        sql.append("(" + " OR ".join("path LIKE {}" for _ in scope_paths) + ")")
        args += [p + "%" for p in scope_paths]
    rows = await raw(f"SELECT id FROM org_unit WHERE {' AND '.join(sql)}", *args)
    return [r["id"] for r in rows]


async def where(tenant: TenantContext, flt: MemberFilter, scope_paths: Sequence[str] | None) -> tuple[str, list[Any]]:
    """WHERE clause (with {} placeholders) and its arguments for a member search.

    Org subtrees and scopes become an explicit list of unit ids (looked up first in the small
    org_unit table) rather than a sub-select: with the ids in hand PostgreSQL estimates how many
    members they hold (column statistics) and picks the per-union index for a small union and the
    name index for a large subtree, instead of guessing."""
    sql = ["m.tenant_id = {}"]
    args: list[Any] = [tenant.id]
    if flt.name_prefix:
        sql.append("m.name_search >= {} AND m.name_search < {}")
        args += [flt.name_prefix, prefix_upper_bound(flt.name_prefix)]
    for column, value in (("m.id_number_bidx", flt.id_bidx), ("m.phone_bidx", flt.phone_bidx)):
        if value is not None:
            clause, values = _bidx_clause(column, value)
            sql.append(clause)
            args += values
    if flt.org_unit_id is not None:
        sql.append("m.org_unit_id = {}")
        args.append(flt.org_unit_id)
    if flt.household_id is not None:
        sql.append("m.household_id = {}")
        args.append(flt.household_id)
    scope = None
    if scope_paths is not None:
        if not scope_paths:
            sql.append("1 = 0")
        elif not any(_is_root(p) for p in scope_paths):
            scope = list(scope_paths)
    if flt.subtree_path or scope:
        ids = await _unit_ids(tenant, [flt.subtree_path] if flt.subtree_path else [], scope)
        if not ids:
            sql.append("1 = 0")
        elif len(ids) == 1:
            sql.append("m.org_unit_id = {}")
            args.append(ids[0])
        elif on_postgres():
            sql.append("m.org_unit_id = ANY({}::bigint[])")
            args.append(ids)
        else:
            sql.append(f"m.org_unit_id IN ({', '.join(str(int(i)) for i in ids)})")
    choices: tuple[tuple[str, Sequence[str] | None], ...] = (("state", flt.states), ("work_status", flt.work_statuses))
    for column, chosen in choices:
        if chosen:
            sql.append(f"m.{column} IN ({', '.join('{}' for _ in chosen)})")
            args += list(chosen)
    for tag in sorted(set(flt.tags or ())):
        # Through member_tag: equality is leakproof, so its index works under row-level security
        # (array or jsonb containment would only ever be a filter; see tables.MemberTag).
        sql.append("m.id IN (SELECT t.member_id FROM member_tag t WHERE t.tenant_id = {} AND t.tag = {})")
        args += [tenant.id, tag]
    return " AND ".join(sql), args


COUNT_CAP = 100_000


def _tag_only(flt: MemberFilter, scope_paths: Sequence[str] | None) -> bool:
    if not flt.tags or len(set(flt.tags)) != 1:
        return False
    others = {k: v for k, v in flt.__dict__.items() if k != "tags"}
    unscoped = scope_paths is None or any(_is_root(p) for p in scope_paths)
    return unscoped and all(v in (None, (), []) for v in others.values())


async def search_members(tenant: TenantContext, flt: MemberFilter, *, scope_paths: Sequence[str] | None,
                         order: str = "NAME", descending: bool = False, offset: int = 0, limit: int = 50,
                         with_total: bool = True, after_key: int | None = None,
                         ) -> tuple[list[dict[str, Any]], int, bool]:
    """A page of members and the total: exact up to COUNT_CAP matches, else COUNT_CAP and False (a
    count over hundreds of thousands of rows costs a third of a second at 1,000,000 members; a
    capped one a few milliseconds)."""
    clause, args = await where(tenant, flt, scope_paths)
    direction = " DESC" if descending else ""
    collation = await name_collation()
    order_sql = ", ".join(_sorted_by(c, collation) + direction for c in ORDERS[order])
    key_cols = KEYSET_ORDERS.get(order)
    seek, seek_args, skip = "", [], offset
    if after_key is not None and key_cols is not None:
        # The cursor names the last row by id only (no personal data in cursors); its sort key is
        # read back in the same statement.
        cols = ", ".join(_sorted_by(f"m.{c}", collation) for c in key_cols)
        ref = ", ".join(_sorted_by(f"k.{c}", collation) for c in key_cols)
        seek = (f" AND ({cols}) {'<' if descending else '>'} "
                f"(SELECT {ref} FROM member k WHERE k.tenant_id = {{}} AND k.id = {{}})")
        seek_args, skip = [tenant.id, after_key], 0
    head = f"SELECT {_SELECT} FROM member m WHERE {clause}"
    tail = f" ORDER BY {order_sql} LIMIT {{}} OFFSET {{}}"
    rows = await raw(head + seek + tail, *args, *seek_args, limit, skip)
    if not rows and seek and offset:
        # The row the cursor named has left the list (moved, transferred): fall back to position.
        rows = await raw(head + tail, *args, limit, offset)
    total, exact = 0, True
    if with_total:
        if offset == 0 and after_key is None and len(rows) < limit:
            total = len(rows)
        elif flt.tags and _tag_only(flt, scope_paths):  # (tags named for the checker: _tag_only needs one)
            # One tag and nothing else: count the tag's rows alone (member_tag mirrors the tenant's
            # members exactly), not the join with a million member index entries.
            total = (await raw("SELECT count(*) AS n FROM (SELECT 1 FROM member_tag t WHERE t.tenant_id = {} AND t.tag = {} "
                               "LIMIT {}) c", tenant.id, flt.tags[0], COUNT_CAP + 1))[0]["n"]
        else:
            total = (await raw(f"SELECT count(*) AS n FROM (SELECT 1 FROM member m WHERE {clause} LIMIT {{}}) c",
                               *args, COUNT_CAP + 1))[0]["n"]
            if total > COUNT_CAP:
                total, exact = COUNT_CAP, False
    return [_decode(r) for r in rows], total, exact


async def iter_members(tenant: TenantContext, flt: MemberFilter, *, scope_paths: Sequence[str] | None,
                       batch: int = 2000, columns: str = _SELECT) -> Any:
    """All matching members in (name, id) order, keyset-paged: constant memory for exports."""
    clause, args = await where(tenant, flt, scope_paths)
    last: tuple[str, int] | None = None
    while True:
        extra, extra_args = "", []
        if last is not None:
            extra = " AND (m.name_search > {} OR (m.name_search = {} AND m.id > {}))"
            extra_args = [last[0], last[0], last[1]]
        rows = await raw(f"SELECT {columns}, m.name_search FROM member m WHERE {clause}{extra} "
                         f"ORDER BY m.name_search, m.id LIMIT {int(batch)}", *args, *extra_args)
        if not rows:
            return
        for r in rows:
            yield _decode(r)
        last = (rows[-1]["name_search"], rows[-1]["id"])
        if len(rows) < batch:
            return


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    tags = row.get("tags")
    if isinstance(tags, str):
        row["tags"] = json.loads(tags)
    return row


async def get_member(tenant: TenantContext, member_id: int) -> dict[str, Any] | None:
    row = await Member.select().where((Member.tenant_id == tenant.id) & (Member.id == member_id)).first()
    return _decode(row) if row else None


async def lock_member(tenant: TenantContext, member_id: int) -> dict[str, Any] | None:
    """The member row under a row lock (FOR UPDATE) until the transaction ends: what an import batch
    takes on the people it writes. SQLite serialises writers already and has no row locks."""
    query = Member.select().where((Member.tenant_id == tenant.id) & (Member.id == member_id))
    if on_postgres():
        query = query.lock_rows()
    row = await query.first()
    return _decode(row) if row else None


async def members_by_ids(tenant: TenantContext, ids: Sequence[int]) -> list[dict[str, Any] | None]:
    if not ids:
        return []
    rows = await Member.select().where((Member.tenant_id == tenant.id) & Member.id.is_in(list(ids)))
    by_id = {r["id"]: _decode(r) for r in rows}
    return [by_id.get(i) for i in ids]


async def member_by_bidx(tenant: TenantContext, bidx: bytes | Sequence[bytes]) -> dict[str, Any] | None:
    """The member with this ID number blind index (or any of several: one per index key to match)."""
    values = [bidx] if isinstance(bidx, bytes) else list(bidx)
    row = await Member.select().where((Member.tenant_id == tenant.id) & Member.id_number_bidx.is_in(values)).first()
    return _decode(row) if row else None


async def history(tenant: TenantContext, member_id: int, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    cond = (MemberHistory.tenant_id == tenant.id) & (MemberHistory.member_id == member_id)
    rows = await MemberHistory.select().where(cond).order_by(MemberHistory.id, ascending=False).offset(offset).limit(limit)
    total = await MemberHistory.count().where(cond)
    for r in rows:
        if isinstance(r["changes"], str):
            r["changes"] = json.loads(r["changes"])
    return rows, total


async def get_household(tenant: TenantContext, household_id: int) -> dict[str, Any] | None:
    return await Household.select().where((Household.tenant_id == tenant.id) & (Household.id == household_id)).first()


async def household_people(tenant: TenantContext, household_id: int) -> list[dict[str, Any]]:
    return await HouseholdPerson.select().where(
        (HouseholdPerson.tenant_id == tenant.id) & (HouseholdPerson.household_id == household_id)
    ).order_by(HouseholdPerson.id)


async def get_person(tenant: TenantContext, person_id: int) -> dict[str, Any] | None:
    return await HouseholdPerson.select().where(
        (HouseholdPerson.tenant_id == tenant.id) & (HouseholdPerson.id == person_id)).first()


async def get_transfer(tenant: TenantContext, transfer_id: int) -> dict[str, Any] | None:
    return await MemberTransfer.select().where(
        (MemberTransfer.tenant_id == tenant.id) & (MemberTransfer.id == transfer_id)).first()


async def list_transfers(tenant: TenantContext, *, status: str | None, direction: str | None, offset: int,
                         limit: int, principal: Any = None) -> tuple[list[dict[str, Any]], int]:
    """This tenant's copies of transfers; with ``principal``, only those whose union on this
    tenant's side lies in its ``member.read`` subtree."""
    cond: Combinable = MemberTransfer.tenant_id == tenant.id
    if status:
        cond &= MemberTransfer.status == status
    if direction == "INCOMING":
        cond &= MemberTransfer.side.is_in(["dest", "both"])
    elif direction == "OUTGOING":
        cond &= MemberTransfer.side.is_in(["source", "both"])
    if principal is not None:
        from core.scope import covers_root

        if not covers_root(principal, "member.read"):
            ids = await _unit_ids(tenant, [], principal.scope_paths("member.read") or ["/-none-/"])
            own_source = MemberTransfer.side.is_in(["source", "both"]) & MemberTransfer.source_unit_id.is_in(ids or [0])
            own_dest = MemberTransfer.side.is_in(["dest", "both"]) & MemberTransfer.dest_unit_id.is_in(ids or [0])
            cond &= (own_source | own_dest)
    rows = await MemberTransfer.select().where(cond).order_by(MemberTransfer.id, ascending=False).offset(offset).limit(limit)
    return rows, await MemberTransfer.count().where(cond)


async def get_import(tenant: TenantContext, import_id: int) -> dict[str, Any] | None:
    row = await MemberImport.select().where((MemberImport.tenant_id == tenant.id) & (MemberImport.id == import_id)).first()
    return _json_fields(row, ("scope_paths", "file_error", "header")) if row else None


async def list_imports(tenant: TenantContext, offset: int, limit: int,
                       only_user: int | None = None) -> tuple[list[dict[str, Any]], int]:
    cond: Combinable = MemberImport.tenant_id == tenant.id
    if only_user is not None:
        cond &= MemberImport.created_by == only_user
    rows = await MemberImport.select().where(cond).order_by(MemberImport.id, ascending=False).offset(offset).limit(limit)
    return [_json_fields(r, ("scope_paths", "file_error", "header")) for r in rows], await MemberImport.count().where(cond)


async def import_errors(tenant: TenantContext, import_id: int, phase: str, offset: int = 0,
                        limit: int = 50) -> list[dict[str, Any]]:
    return await MemberImportError.select(
        MemberImportError.row_no, MemberImportError.column_name, MemberImportError.code, MemberImportError.message,
    ).where((MemberImportError.tenant_id == tenant.id) & (MemberImportError.import_id == import_id)
            & (MemberImportError.phase == phase)
            ).order_by(MemberImportError.row_no).order_by(MemberImportError.id).offset(offset).limit(limit)


async def get_export(tenant: TenantContext, export_id: int) -> dict[str, Any] | None:
    row = await MemberExport.select().where((MemberExport.tenant_id == tenant.id) & (MemberExport.id == export_id)).first()
    return _json_fields(row, ("scope_paths", "filter")) if row else None


async def list_exports(tenant: TenantContext, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    cond = MemberExport.tenant_id == tenant.id
    rows = await MemberExport.select().where(cond).order_by(MemberExport.id, ascending=False).offset(offset).limit(limit)
    return [_json_fields(r, ("scope_paths", "filter")) for r in rows], await MemberExport.count().where(cond)


def _json_fields(row: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    for name in names:
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


async def find_members_by_id_number(tenant: TenantContext, id_numbers: Sequence[str]) -> dict[str, int]:
    """Member ids by ID number, through the blind index (the numbers are never decrypted or compared in
    clear). Returns ``{id number as given: member id}`` for the numbers that name a member of
    ``tenant``; invalid numbers and numbers of no member are simply absent. Lookups match under every
    index key of a rotation in progress, in batches of 5,000 (portable across both engines)."""
    from core.members import personal
    from core.pii import PiiValueError

    keys = await personal.index_keys(tenant)
    given_by_digest: dict[bytes, str] = {}
    for given in dict.fromkeys(id_numbers):
        try:
            canonical = personal.canonical_id_number(given)
        except PiiValueError:
            continue
        for digest in keys.id_bidxs(canonical):
            given_by_digest[digest] = given
    found: dict[str, int] = {}
    digests = list(given_by_digest)
    for i in range(0, len(digests), 5000):
        rows = await Member.select(Member.id, Member.id_number_bidx).where(
            (Member.tenant_id == tenant.id) & Member.id_number_bidx.is_in(digests[i:i + 5000]))
        for r in rows:
            found[given_by_digest[bytes(r["id_number_bidx"])]] = int(r["id"])
    return found


async def id_number_digests(tenant: TenantContext, id_numbers: Sequence[str]) -> list[tuple[bytes, ...]]:
    """For each ID number as given, the blind-index digests a member of ``tenant`` with that number may
    be stored under (every index key of a rotation in progress); an empty tuple for an invalid number.
    For matching a large file set-based, in SQL, against ``member.id_number_bidx`` (the numbers are
    never stored or compared in clear): the caller stages the digests and joins."""
    from core.members import personal
    from core.pii import PiiValueError

    matchers = (await personal.index_keys(tenant)).id_matchers()
    out: list[tuple[bytes, ...]] = []
    for given in id_numbers:
        try:
            canonical = personal.canonical_id_number(given)
        except PiiValueError:
            out.append(())
            continue
        out.append(tuple(m(canonical) for m in matchers))
    return out
