"""The one-call posting (ledger_post_checked) and the statement path it stands in for: the same
rows, the same refusals with the same messages, the same behaviour under concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from core.actor import Actor
from core.context import tenant_scope
from core.errors import DomainError, ErrorCode
from core.funds import posting
from core.funds.posting import EntrySpec, Line, TransferRow, post
from core.funds.services import account_ids, today
from core.funds.services.periods import close_period, set_budget
from tests.funds.helpers import function_or_statements, integrity, key, make_tree

path = function_or_statements(posting)


async def _setup(cash: int = 1_000) -> tuple[Any, Any, dict[str, int]]:
    t = await make_tree()
    with tenant_scope(t.tenant):
        ids = await account_ids(t.tenant, [(t.g1["id"], "general", c) for c in ("102", "501", "502", "404")]
                                + [(t.county["id"], "general", c) for c in ("102", "506")])
        acc = dict(zip(("102", "501", "502", "404", "c102", "c506"), ids, strict=True))
        await post(t.tenant, EntrySpec(key=key("open"), kind="manual", entry_date=today(),
                                       lines=[Line(acc["102"], cash), Line(acc["404"], -cash)]))
        await post(t.tenant, EntrySpec(key=key("open"), kind="manual", entry_date=today(),
                                       lines=[Line(acc["c102"], cash), Line(acc["c506"], -cash)]))
    return t, t.tenant, acc


async def _refused(tenant: Any, spec: EntrySpec) -> DomainError:
    with tenant_scope(tenant), pytest.raises(DomainError) as info:
        await post(tenant, spec)
    return info.value


async def _rows(tenant: Any, entry_id: int) -> dict[str, Any]:
    from core.funds.sql import read_conn

    with tenant_scope(tenant):
        async with read_conn() as db:
            return {
                "postings": [tuple(r.values()) for r in await db.fetch(
                    "SELECT account_id, org_unit_id, fund_id, code, entry_date, amount_fen FROM ledger_posting "
                    "WHERE tenant_id = $1 AND entry_id = $2 ORDER BY id", tenant.id, entry_id)],
                "transfers": [tuple(r.values()) for r in await db.fetch(
                    "SELECT kind, direction, from_unit_id, to_unit_id, amount_fen FROM ledger_transfer "
                    "WHERE tenant_id = $1 AND entry_id = $2", tenant.id, entry_id)],
                "queued": await db.fetchval("SELECT count(*) FROM ledger_unchained WHERE tenant_id = $1 AND "
                                            "entry_id = $2", tenant.id, entry_id)
                + await db.fetchval("SELECT count(*) FROM ledger_chain WHERE tenant_id = $1 AND entry_id = $2",
                                    tenant.id, entry_id),
            }


async def _balances(tenant: Any, ids: list[int]) -> dict[int, tuple[int, int]]:
    from core.funds.sql import read_conn

    with tenant_scope(tenant):
        async with read_conn() as db:
            return {r["id"]: (r["balance_fen"], r["reserved_fen"]) for r in await db.fetch(
                f"SELECT id, balance_fen, reserved_fen FROM ledger_account WHERE tenant_id = $1 AND id IN "
                f"({db.in_list(2, len(ids))})", tenant.id, *ids)}


async def test_a_posting_writes_the_same_rows_on_both_paths(path):
    t, tenant, acc = await _setup()
    spec = EntrySpec(key=key("grant"), kind="transfer_down", entry_date=today(), memo="拨款",
                     lines=[Line(acc["c506"], 300), Line(acc["c102"], -300), Line(acc["102"], 300),
                            Line(acc["404"], -300)],
                     transfers=[TransferRow("grant", "down", t.county["id"], t.g1["id"], 0, 300)])
    with tenant_scope(tenant):
        done = await post(tenant, spec)
    assert done.created
    rows = await _rows(tenant, done.entry_id)
    assert [(p[0], p[3], p[5]) for p in rows["postings"]] == [
        (acc["c506"], "506", 300), (acc["c102"], "102", -300), (acc["102"], "102", 300), (acc["404"], "404", -300)]
    assert rows["postings"][0][1] == t.county["id"] and rows["postings"][2][1] == t.g1["id"]
    assert rows["transfers"] == [("grant", "down", t.county["id"], t.g1["id"], 300)]
    assert rows["queued"] == 1
    assert {a["id"] for a in done.accounts} == {acc["c506"], acc["c102"], acc["102"], acc["404"]}
    assert {a["code"] for a in done.accounts} == {"506", "102", "404"}
    b = await _balances(tenant, [acc["102"], acc["c102"]])
    assert b[acc["102"]] == (1_300, 0) and b[acc["c102"]] == (700, 0)
    await integrity(tenant)


async def test_a_repeated_key_returns_the_first_entry_and_a_changed_request_is_refused(path):
    t, tenant, acc = await _setup()
    k = key("same")
    lines = [Line(acc["501"], 10), Line(acc["102"], -10)]
    with tenant_scope(tenant):
        first = await post(tenant, EntrySpec(key=k, kind="payout", entry_date=today(), lines=lines))
        again = await post(tenant, EntrySpec(key=k, kind="payout", entry_date=today(), lines=lines))
    assert first.created and not again.created and again.entry_id == first.entry_id
    err = await _refused(tenant, EntrySpec(key=k, kind="payout", entry_date=today(),
                                           lines=[Line(acc["501"], 11), Line(acc["102"], -11)]))
    assert (err.code, err.field) == (ErrorCode.DUPLICATE, "idempotencyKey")
    assert (await _balances(tenant, [acc["102"]]))[acc["102"]] == (990, 0)


async def test_refusals_carry_the_same_code_message_and_field_on_both_paths(path):
    t, tenant, acc = await _setup()
    before = await _balances(tenant, list(acc.values()))
    err = await _refused(tenant, EntrySpec(key=key("big"), kind="payout", entry_date=today(),
                                           lines=[Line(acc["501"], 1_001), Line(acc["102"], -1_001)]))
    assert (err.code, err.field) == (ErrorCode.INSUFFICIENT_FUNDS, "amountFen")
    assert err.message == f"account 102 (id {acc['102']}) has 1000 fen available; this entry needs 1001 fen"
    err = await _refused(tenant, EntrySpec(key=key("books"), kind="manual", entry_date=today(),
                                           lines=[Line(acc["102"], 5), Line(acc["c102"], -5)]))
    assert (err.code, err.field) == (ErrorCode.UNBALANCED, "postings")
    assert err.message.startswith(f"postings for org unit {t.g1['id']}, fund ") and "off by 5 fen" in err.message
    err = await _refused(tenant, EntrySpec(key=key("gone"), kind="payout", entry_date=today(),
                                           lines=[Line(acc["501"], 5), Line(10**12, -5)]))
    assert (err.code, err.message, err.field) == (ErrorCode.NOT_FOUND, "an account of this entry does not exist",
                                                  "accountId")
    # Another tenant's account is as absent as one that does not exist.
    other = await make_tree("beijing")
    with tenant_scope(other.tenant):
        [foreign] = await account_ids(other.tenant, [(other.g1["id"], "general", "102")])
    err = await _refused(tenant, EntrySpec(key=key("foreign"), kind="payout", entry_date=today(),
                                           lines=[Line(acc["501"], 5), Line(foreign, -5)]))
    assert err.code == ErrorCode.NOT_FOUND
    err = await _refused(tenant, EntrySpec(key=key("rel"), kind="payout", entry_date=today(),
                                           lines=[Line(acc["501"], 5), Line(acc["102"], -5)],
                                           release_accounts={acc["102"]: 1}))
    assert (err.code, err.field) == (ErrorCode.INVALID_STATE, "amountFen")
    # Nothing of the refused entries was written.
    assert await _balances(tenant, list(acc.values())) == before


async def test_budget_limit_and_closed_period_on_both_paths(path):
    t, tenant, acc = await _setup()
    year = today().year
    with tenant_scope(tenant):
        await set_budget(tenant, Actor(None, "test"), unit=t.g1, fund="general", year=year, amount_fen=100)
        await post(tenant, EntrySpec(key=key("in"), kind="payout", entry_date=today(),
                                     lines=[Line(acc["501"], 60), Line(acc["502"], 30), Line(acc["102"], -90)]))
    err = await _refused(tenant, EntrySpec(key=key("over"), kind="payout", entry_date=today(),
                                           lines=[Line(acc["501"], 11), Line(acc["102"], -11)]))
    assert (err.code, err.field) == (ErrorCode.BUDGET_EXCEEDED, "amountFen")
    assert err.message == (f"the {year} budget of this fund at org unit {t.g1['id']} has 10 fen left; this entry "
                           "needs 11 fen (an approver can lift the budget)")
    with tenant_scope(tenant):  # a refund of spending is never refused by the budget
        await post(tenant, EntrySpec(key=key("back"), kind="refund", entry_date=today(),
                                     lines=[Line(acc["102"], 20), Line(acc["501"], -20)]))
        await post(tenant, EntrySpec(key=key("fits"), kind="payout", entry_date=today(),
                                     lines=[Line(acc["501"], 30), Line(acc["102"], -30)]))
    day = dt.date(2019, 3 + (path == "statements"), 15)
    with tenant_scope(tenant):
        await close_period(tenant, Actor(None, "test"), posting.period_of(day))
    err = await _refused(tenant, EntrySpec(key=key("late"), kind="payout", entry_date=day,
                                           lines=[Line(acc["501"], 1), Line(acc["102"], -1)]))
    assert (err.code, err.field) == (ErrorCode.PERIOD_CLOSED, "entryDate")
    assert err.message == f"the accounting period {posting.period_of(day)} is closed"
    await integrity(tenant)


async def test_concurrent_payouts_never_overdraw_on_both_paths(path):
    t, tenant, acc = await _setup(cash=500)

    async def pay(i: int) -> bool:
        with tenant_scope(tenant):
            try:
                await post(tenant, EntrySpec(key=key(f"pay{i}"), kind="payout", entry_date=today(),
                                             lines=[Line(acc["501"], 100), Line(acc["102"], -100)]))
            except DomainError as e:
                assert e.code == ErrorCode.INSUFFICIENT_FUNDS
                return False
            return True

    results = await asyncio.gather(*[pay(i) for i in range(20)])
    assert sum(results) == 5
    assert (await _balances(tenant, [acc["102"], acc["501"]])) == {acc["102"]: (0, 0), acc["501"]: (500, 0)}
    await integrity(tenant)


async def test_a_posting_inside_a_callers_transaction_sees_its_new_accounts_and_rolls_back_with_it(path):
    """A capability that opens accounts and posts in one transaction of its own (a settlement moving a
    surplus) must have the posting join that transaction: the accounts are not committed yet."""
    from core.dbutil import transaction

    t, tenant, acc = await _setup()

    class Abandon(Exception):
        pass

    with tenant_scope(tenant):
        async with transaction():
            fresh = (await account_ids(tenant, [(t.g1["id"], "general", "503")]))[0]
            posted = await post(tenant, EntrySpec(key=key("in-tx"), kind="manual", entry_date=today(),
                                                  lines=[Line(fresh, 100), Line(acc["102"], -100)]))
            assert posted.created
        with pytest.raises(Abandon):
            async with transaction():
                spent = await post(tenant, EntrySpec(key=key("in-tx"), kind="manual", entry_date=today(),
                                                     lines=[Line(fresh, 50), Line(acc["102"], -50)]))
                raise Abandon
    assert (await _rows(tenant, posted.entry_id))["postings"]
    assert (await _rows(tenant, spent.entry_id))["postings"] == []
    assert (await _balances(tenant, [acc["102"], fresh])) == {acc["102"]: (900, 0), fresh: (100, 0)}


async def test_refusal_order_is_the_same_on_both_paths(path):
    """Several checks fail at once: both paths name the same one (missing account, then a book off,
    then funds, then the closed period, then the budget)."""
    t, tenant, acc = await _setup(cash=100)
    year = today().year
    with tenant_scope(tenant):
        await set_budget(tenant, Actor(None, "test"), unit=t.g1, fund="general", year=year, amount_fen=50)
    # Overdrawn and over budget: the funds check comes first.
    err = await _refused(tenant, EntrySpec(key=key("both"), kind="payout", entry_date=today(),
                                           lines=[Line(acc["501"], 101), Line(acc["102"], -101)]))
    assert err.code == ErrorCode.INSUFFICIENT_FUNDS
    # Overdrawn and a book off: the book comes first.
    err = await _refused(tenant, EntrySpec(key=key("off"), kind="manual", entry_date=today(),
                                           lines=[Line(acc["c102"], 101), Line(acc["102"], -101)]))
    assert err.code == ErrorCode.UNBALANCED
    # A missing account and a book off: the missing account comes first.
    err = await _refused(tenant, EntrySpec(key=key("miss"), kind="manual", entry_date=today(),
                                           lines=[Line(acc["c102"], 5), Line(10**12, -5)]))
    assert err.code == ErrorCode.NOT_FOUND
    # A closed period and over budget: the period comes first.
    day = dt.date(2018, 5 + (path == "statements"), 2)
    with tenant_scope(tenant):
        await set_budget(tenant, Actor(None, "test"), unit=t.g1, fund="general", year=day.year, amount_fen=1)
        await close_period(tenant, Actor(None, "test"), posting.period_of(day))
    err = await _refused(tenant, EntrySpec(key=key("closed"), kind="payout", entry_date=day,
                                           lines=[Line(acc["501"], 2), Line(acc["102"], -2)]))
    assert err.code == ErrorCode.PERIOD_CLOSED
    assert (await _balances(tenant, [acc["102"], acc["501"]])) == {acc["102"]: (100, 0), acc["501"]: (0, 0)}
    await integrity(tenant)


async def test_an_entry_spending_in_two_units_is_held_to_each_units_budget(path):
    """Spending at two grassroots unions in one entry: each unit's budget is charged, and the entry is
    refused as a whole when either would go over."""
    t, tenant, acc = await _setup()
    year = today().year
    with tenant_scope(tenant):
        g2 = dict(zip(("102", "501", "404"), await account_ids(
            tenant, [(t.g2["id"], "general", c) for c in ("102", "501", "404")]), strict=True))
        await post(tenant, EntrySpec(key=key("open2"), kind="manual", entry_date=today(),
                                     lines=[Line(g2["102"], 1_000), Line(g2["404"], -1_000)]))
        await set_budget(tenant, Actor(None, "test"), unit=t.g1, fund="general", year=year, amount_fen=100)
        await set_budget(tenant, Actor(None, "test"), unit=t.g2, fund="general", year=year, amount_fen=40)
    both = [Line(acc["501"], 30), Line(acc["102"], -30), Line(g2["501"], 30), Line(g2["102"], -30)]
    with tenant_scope(tenant):
        await post(tenant, EntrySpec(key=key("two"), kind="payout", entry_date=today(), lines=both))
    err = await _refused(tenant, EntrySpec(key=key("two-over"), kind="payout", entry_date=today(), lines=both))
    assert (err.code, err.field) == (ErrorCode.BUDGET_EXCEEDED, "amountFen")
    assert err.message == (f"the {year} budget of this fund at org unit {t.g2['id']} has 10 fen left; this "
                           "entry needs 30 fen (an approver can lift the budget)")
    from core.funds.sql import read_conn

    with tenant_scope(tenant):
        async with read_conn() as db:
            spent = {r["org_unit_id"]: r["spent_fen"] for r in await db.fetch(
                "SELECT org_unit_id, spent_fen FROM ledger_budget WHERE tenant_id = $1 AND year = $2 AND "
                "org_unit_id = ANY($3::bigint[])", tenant.id, year, [t.g1["id"], t.g2["id"]])}
    assert spent == {t.g1["id"]: 30, t.g2["id"]: 30}  # the refused entry charged neither
    assert (await _balances(tenant, [acc["102"], g2["102"]])) == {acc["102"]: (970, 0), g2["102"]: (970, 0)}
    await integrity(tenant)
