"""Paying many keyed payments from one reservation in one call (a campaign's distribution): each
payment keeps its own idempotency key, a repeated call pays nothing twice, a key reused for another
amount is refused, more than the reservation holds is refused with nothing written, and the books
and the hash chain stay consistent."""

from __future__ import annotations

from tests.funds.helpers import balance, counts, integrity, make_tree
from tests.funds.test_funds_maker_checker import _cash, _threshold


async def test_a_batch_of_payments_is_idempotent_per_key_and_never_exceeds_the_reservation(api, sh_finance):
    from core.actor import Actor
    from core.context import tenant_scope
    from core.errors import DomainError, ErrorCode
    from core.funds import services

    t = await make_tree()
    limit = await _threshold(sh_finance)
    await _cash(sh_finance, t.g1, 1_000, limit)
    maker = Actor(101, "maker")
    with tenant_scope(t.tenant):
        rid = await services.reserve(t.tenant, maker, unit=t.g1, fund="general", amount_fen=600, expense_code="502",
                                     key="campaign-1", approved_by=202)
        first = await services.post_reservation_many(t.tenant, maker, rid, [("p1", 100), ("p2", 200)], memo="发放")
        assert len(set(first)) == 2
        # a retry of the same batch plus one new payment: the first two come back, only the third is paid
        again = await services.post_reservation_many(t.tenant, maker, rid, [("p1", 100), ("p2", 200), ("p3", 50)])
        assert again[:2] == first and again[2] not in first
        before = await counts(t.tenant)
        for bad, code in (([("p1", 999)], ErrorCode.DUPLICATE), ([("p4", 251)], ErrorCode.INVALID_INPUT),
                          ([("p5", 1), ("p5", 1)], ErrorCode.INVALID_INPUT), ([], ErrorCode.INVALID_INPUT)):
            try:
                await services.post_reservation_many(t.tenant, maker, rid, bad)
                raise AssertionError(f"accepted {bad}")
            except DomainError as exc:
                assert exc.code is code, (bad, exc)
        assert await counts(t.tenant) == before
        last = await services.post_reservation_many(t.tenant, maker, rid, [("p4", 250)])
        assert len(last) == 1
        # the reservation is spent to the fen: it is posted, and nothing more can be paid from it
        try:
            await services.post_reservation_many(t.tenant, maker, rid, [("p6", 1)])
            raise AssertionError("paid from a spent reservation")
        except DomainError as exc:
            assert exc.code is ErrorCode.INVALID_STATE
    assert await balance(sh_finance, t.g1, "502") == 600
    await integrity(t.tenant)
