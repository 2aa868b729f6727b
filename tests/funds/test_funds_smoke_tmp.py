import asyncio
import datetime as dt

from core.audit.services import Actor
from core.funds import services as fs
from core.funds import chain
from core.tenancy import services as tenancy
from core.tenancy.context import tenant_scope

A = Actor(1, "t")


async def test_engine(database):
    t = await tenancy.get_tenant(code="shanghai")
    with tenant_scope(t):
        root = await tenancy.root_unit(t)
        refs = [fs.AccountRef(org_unit_id=root["id"], fund="general", code="102"),
                fs.AccountRef(org_unit_id=root["id"], fund="general", code="404")]
        r = await fs.create_manual_entry(t, A, refs=refs, amounts=[1000, -1000], key="k1")
        assert r.entry_id
        r2 = await fs.create_manual_entry(t, A, refs=refs, amounts=[1000, -1000], key="k1")
        assert r2.entry_id == r.entry_id
        refs2 = [fs.AccountRef(org_unit_id=root["id"], fund="general", code="501"),
                 fs.AccountRef(org_unit_id=root["id"], fund="general", code="102")]
        res = await asyncio.gather(*[fs.create_manual_entry(t, A, refs=refs2, amounts=[100, -100], key=f"p{i}")
                                     for i in range(15)], return_exceptions=True)
        ok = [x for x in res if isinstance(x, fs.ManualResult)]
        assert len(ok) == 10, res
        rep = await chain.verify(t)
        assert rep.ok, rep
        print(rep)
