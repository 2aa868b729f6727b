"""Bulk posting (core.funds.bulk.post_many): a batch of entries in one set-based transaction keeps every
guarantee of the single posting path. The chain verifies afterwards and links the batch in its order;
a re-run is idempotent per key; a key reused for another request is refused whole; a batch is refused
whole when any of its entries would have been refused posted alone after the ones before it (an
overdraft, even one that later entries of the batch would cover; a budget); nothing is written then;
concurrent batches sharing keys in opposite orders neither deadlock nor post a key twice."""

from __future__ import annotations

import pytest

from tests.funds.helpers import counts, integrity, make_tree


async def _accounts(t, *codes: str) -> list[int]:
    from core.context import tenant_scope
    from core.funds import services

    with tenant_scope(t.tenant):
        return await services.account_ids(t.tenant, [(t.g1["id"], "general", c) for c in codes])


def _spec(key: str, lines: list[tuple[int, int]], kind: str = "manual"):
    from core.funds import services
    from core.funds.posting import EntrySpec, Line, sys_key

    return EntrySpec(key=sys_key("bulk-test", key), kind=kind, entry_date=services.today(), memo="批量",
                     lines=[Line(a, m) for a, m in lines])


async def _refused(t, specs, code) -> None:
    from core.context import tenant_scope
    from core.errors import DomainError
    from core.funds.bulk import post_many

    before = await counts(t.tenant)
    with tenant_scope(t.tenant), pytest.raises(DomainError) as caught:
        await post_many(t.tenant, specs)
    assert caught.value.code is code, caught.value
    assert await counts(t.tenant) == before


async def test_a_bulk_batch_is_chained_in_order_and_idempotent_per_key(api):
    from core.context import tenant_scope
    from core.dbutil import raw
    from core.errors import ErrorCode
    from core.funds.bulk import post_many

    t = await make_tree()
    cash, income, expense = await _accounts(t, "102", "404", "502")
    n = 300
    with tenant_scope(t.tenant):
        opened = await post_many(t.tenant, [_spec(f"{t.g1['id']}-in", [(cash, 100_000), (income, -100_000)])])
        assert opened[0].created
        specs = [_spec(f"{t.g1['id']}-pay-{i}", [(expense, 100 + i), (cash, -(100 + i))]) for i in range(n)]
        first = await post_many(t.tenant, specs)
        assert all(p.created for p in first)
        ids = [p.entry_id for p in first]
        in_key_order = [e for _, e in sorted(zip([s.key for s in specs], ids, strict=True))]
        assert in_key_order == sorted(ids) and len(set(ids)) == n  # posted in the order of the keys
        await integrity(t.tenant)  # links the queue, then verifies every link and entry content
        seqs = await raw("SELECT entry_id FROM ledger_chain WHERE tenant_id = {} AND entry_id = ANY({}::bigint[]) "
                         "ORDER BY seq", t.tenant.id, ids)
        assert [r["entry_id"] for r in seqs] == in_key_order

        # the same batch again, and again with new payments added: nothing twice, the first ids back
        before = await counts(t.tenant)
        again = await post_many(t.tenant, specs)
        assert [p.entry_id for p in again] == ids and not any(p.created for p in again)
        assert await counts(t.tenant) == before
        more = [_spec(f"{t.g1['id']}-pay-x{i}", [(expense, 7), (cash, -7)]) for i in range(3)]
        mixed = await post_many(t.tenant, specs[:10] + more)
        assert [p.entry_id for p in mixed[:10]] == ids[:10] and all(p.created for p in mixed[10:])
        paid = sum(100 + i for i in range(n)) + 21
        rows = await raw("SELECT code, balance_fen FROM ledger_account WHERE tenant_id = {} AND id IN ({}, {})",
                         t.tenant.id, cash, expense)
        assert {r["code"]: r["balance_fen"] for r in rows} == {"102": 100_000 - paid, "502": paid}

    # a key reused for a different request refuses the whole batch, the new payment in it included
    await _refused(t, [_spec(f"{t.g1['id']}-pay-new", [(expense, 5), (cash, -5)]),
                       _spec(f"{t.g1['id']}-pay-0", [(expense, 999), (cash, -999)])], ErrorCode.DUPLICATE)
    # a key twice in one batch, an unbalanced entry, an empty batch
    await _refused(t, [_spec("twice", [(expense, 5), (cash, -5)])] * 2, ErrorCode.INVALID_INPUT)
    await _refused(t, [_spec("unbalanced", [(expense, 5), (cash, -4)])], ErrorCode.UNBALANCED)
    await _refused(t, [], ErrorCode.INVALID_INPUT)
    await integrity(t.tenant)


async def test_a_batch_that_would_overdraw_is_refused_whole_even_when_later_entries_cover_it(api):
    from core.context import tenant_scope
    from core.errors import ErrorCode
    from core.funds.bulk import post_many

    t = await make_tree()
    cash, income, expense = await _accounts(t, "102", "404", "502")
    g = t.g1["id"]
    with tenant_scope(t.tenant):
        await post_many(t.tenant, [_spec(f"{g}-in", [(cash, 1_000), (income, -1_000)])])
    # three payments of 400 from 1,000: the third overdraws, so none is paid
    await _refused(t, [_spec(f"{g}-p{i}", [(expense, 400), (cash, -400)]) for i in range(3)],
                   ErrorCode.INSUFFICIENT_FUNDS)
    # (a batch is posted in the order of its keys)
    # 1,200 out then 500 in ends at 300, but the payment alone would have been refused first: so is the batch
    await _refused(t, [_spec(f"{g}-b-in", [(cash, 500), (income, -500)]),
                       _spec(f"{g}-a-big", [(expense, 1_200), (cash, -1_200)])], ErrorCode.INSUFFICIENT_FUNDS)
    # the other way round each entry is allowed where it stands, and the batch is posted
    with tenant_scope(t.tenant):
        done = await post_many(t.tenant, [_spec(f"{g}-d-big", [(expense, 1_200), (cash, -1_200)]),
                                          _spec(f"{g}-c-in", [(cash, 500), (income, -500)])])
        assert all(p.created for p in done)
    await integrity(t.tenant)


async def test_a_batch_over_the_budget_is_refused_whole(api):
    from core.actor import Actor
    from core.context import tenant_scope
    from core.errors import ErrorCode
    from core.funds import services
    from core.funds.bulk import post_many

    t = await make_tree()
    cash, income, expense = await _accounts(t, "102", "404", "502")
    g = t.g1["id"]
    with tenant_scope(t.tenant):
        await post_many(t.tenant, [_spec(f"{g}-in", [(cash, 10_000), (income, -10_000)])])
        await services.set_budget(t.tenant, Actor(1, "finance"), unit=t.g1, fund="general",
                                  year=services.today().year, amount_fen=500)
    await _refused(t, [_spec(f"{g}-b{i}", [(expense, 300), (cash, -300)]) for i in range(2)],
                   ErrorCode.BUDGET_EXCEEDED)
    with tenant_scope(t.tenant):
        done = await post_many(t.tenant, [_spec(f"{g}-b{i}", [(expense, 250), (cash, -250)]) for i in range(2)])
        assert all(p.created for p in done)
    await _refused(t, [_spec(f"{g}-b9", [(expense, 1), (cash, -1)])], ErrorCode.BUDGET_EXCEEDED)
    await integrity(t.tenant)


async def test_concurrent_batches_sharing_keys_in_opposite_orders_post_each_key_once(api):
    import asyncio

    from core.context import tenant_scope
    from core.dbutil import raw
    from core.funds.bulk import post_many

    t = await make_tree()
    cash, income, expense = await _accounts(t, "102", "404", "502")
    g = t.g1["id"]
    with tenant_scope(t.tenant):
        await post_many(t.tenant, [_spec(f"{g}-in", [(cash, 1_000_000), (income, -1_000_000)])])
        for r in range(5):
            specs = [_spec(f"{g}-r{r}-k{i:03d}", [(expense, 10), (cash, -10)]) for i in range(200)]
            a, b = await asyncio.gather(post_many(t.tenant, specs[:150]), post_many(t.tenant, specs[50:][::-1]))
            by_key = {s.key: p.entry_id for s, p in zip(specs[:150], a, strict=True)}
            for s, p in zip(specs[50:][::-1], b, strict=True):
                assert by_key.setdefault(s.key, p.entry_id) == p.entry_id  # one entry per key, whoever posted it
            assert sum(p.created for p in a) + sum(p.created for p in b) == 200
        rows = await raw("SELECT balance_fen FROM ledger_account WHERE tenant_id = {} AND id = {}", t.tenant.id, expense)
        assert rows[0]["balance_fen"] == 5 * 200 * 10
    await integrity(t.tenant)
