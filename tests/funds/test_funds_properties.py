"""Property test: any sequence of ledger operations (postings, transfers, reservations, payments, voids,
reversals, repeated requests) keeps every balance equal to the sum of its postings, reserved amounts
equal to open reservations, no-negative accounts non-negative, and the hash chain intact."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.actor import Actor
from core.context import tenant_scope
from core.errors import DomainError
from core.funds import services
from core.funds.chain import verify
from core.funds.integrity import check
from tests.funds.helpers import make_tree

ACTOR = Actor(None, "hypothesis")
UNITS = ("city", "county", "g1", "g2")
FUNDS = ("general", "warmth")
amounts = st.integers(min_value=1, max_value=5_000)

operation = st.one_of(
    st.tuples(st.just("income"), st.sampled_from(UNITS), st.sampled_from(FUNDS), amounts),
    st.tuples(st.just("spend"), st.sampled_from(UNITS), st.sampled_from(FUNDS), st.sampled_from(("501", "503", "508")),
              amounts),
    st.tuples(st.just("transfer"), st.sampled_from(UNITS), st.sampled_from(UNITS), st.sampled_from(FUNDS), amounts),
    st.tuples(st.just("reserve"), st.sampled_from(UNITS), st.sampled_from(FUNDS), amounts),
    st.tuples(st.just("pay"), st.integers(0, 20), st.one_of(st.none(), amounts), st.booleans()),
    st.tuples(st.just("void"), st.integers(0, 20)),
    st.tuples(st.just("reverse"), st.integers(0, 40)),
    st.tuples(st.just("budget"), st.sampled_from(UNITS), st.sampled_from(FUNDS), st.integers(0, 20_000)),
    st.tuples(st.just("spend2"), st.sampled_from(UNITS), st.sampled_from(UNITS), st.sampled_from(FUNDS), amounts),
    st.tuples(st.just("repeat"), st.integers(0, 40)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(operation, min_size=1, max_size=25))
async def test_random_operation_sequences_keep_the_ledger_consistent(database, ops):
    t = await make_tree("beijing")
    tenant = t.tenant
    units = {n: getattr(t, n) for n in UNITS}
    entries: list[int] = []
    requests: list[Any] = []
    reservations: list[int] = []
    with tenant_scope(tenant):

        async def manual(unit, fund, debit, credit, amount, key=None):
            key = key or uuid.uuid4().hex
            refs = [services.AccountRef(org_unit_id=unit["id"], fund=fund, code=debit),
                    services.AccountRef(org_unit_id=unit["id"], fund=fund, code=credit)]
            requests.append(("manual", unit, fund, debit, credit, amount, key))
            r = await services.create_manual_entry(tenant, ACTOR, refs=refs, amounts=[amount, -amount], key=key)
            entries.append(r.entry_id)

        for name in UNITS:  # some money everywhere, so most operations have something to work with
            for fund in FUNDS:
                await manual(units[name], fund, "102", "404", 8_000)
        seeded = len(entries)
        for op in ops:
            try:
                kind = op[0]
                if kind == "income":
                    await manual(units[op[1]], op[2], "102", "404", op[3])
                elif kind == "spend":
                    await manual(units[op[1]], op[2], op[3], "102", op[4])
                elif kind == "budget":
                    await services.set_budget(tenant, ACTOR, unit=units[op[1]], fund=op[2], year=services.today().year,
                                              amount_fen=op[3])
                elif kind == "spend2" and op[1] != op[2]:  # one entry spending at two units (two budgets)
                    a, b, fund, amount = units[op[1]], units[op[2]], op[3], op[4]
                    refs = [services.AccountRef(org_unit_id=u["id"], fund=fund, code=c)
                            for u in (a, b) for c in ("502", "102")]
                    r = await services.create_manual_entry(tenant, ACTOR, refs=refs, amounts=[amount, -amount, 7, -7],
                                                           key=uuid.uuid4().hex)
                    entries.append(r.entry_id)
                elif kind == "transfer":
                    key = uuid.uuid4().hex
                    requests.append(("transfer", op, key))
                    eid = (await services.transfer(tenant, ACTOR, from_unit=units[op[1]], to_unit=units[op[2]],
                                                   fund=op[3], amount_fen=op[4], key=key)).entry_id
                    entries.append(eid)
                elif kind == "reserve":
                    rid = await services.reserve(tenant, ACTOR, unit=units[op[1]], fund=op[2], amount_fen=op[3],
                                                 expense_code="501", key=uuid.uuid4().hex)
                    reservations.append(rid)
                elif kind == "pay" and reservations:
                    rid = reservations[op[1] % len(reservations)]
                    entries.append(await services.post_reservation(tenant, ACTOR, rid, key=uuid.uuid4().hex,
                                                                   amount_fen=op[2], final=op[3]))
                elif kind == "void" and reservations:
                    await services.void_reservation(tenant, ACTOR, reservations[op[1] % len(reservations)])
                elif kind == "reverse" and entries:
                    entries.append((await services.reverse_entry(tenant, ACTOR, entries[op[1] % len(entries)],
                                                                 key=uuid.uuid4().hex)).entry_id)
                elif kind == "repeat" and requests:
                    req = requests[op[1] % len(requests)]
                    if req[0] == "manual":
                        before = len(entries)
                        await manual(*req[1:6], key=req[6])
                        assert entries[-1] in entries[:before]  # the first entry again, nothing new
                    else:
                        o = req[1]
                        eid = (await services.transfer(tenant, ACTOR, from_unit=units[o[1]], to_unit=units[o[2]],
                                                       fund=o[3], amount_fen=o[4], key=req[2])).entry_id
                        assert eid in entries
            except DomainError:
                pass  # refusals (insufficient funds, invalid state, hierarchy …) are fine; they must write nothing
        assert len(entries) >= seeded
        report = await check(tenant)
        assert report.ok, report.problems
        chain = await verify(tenant)
        assert chain.ok and chain.pending == 0, chain.problems
