"""`huijia ledger verify`, `huijia ledger checkpoint` and `huijia ledger check`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def add_commands(sub: Any) -> None:
    ledger = sub.add_parser("ledger", help="union-funds ledger").add_subparsers(dest="sub", required=True)
    p = ledger.add_parser("verify", help="link pending entries, then recompute every tenant's ledger hash chain")
    p.add_argument("--tenant")
    p.add_argument("--checkpoint", metavar="FILE", help="also prove the chain still holds this checkpoint's head "
                   "(a document from `huijia ledger checkpoint`; - for stdin); implies its tenant")
    p.set_defaults(fn=cmd_verify)
    p = ledger.add_parser("checkpoint", help="link pending entries, then print a signed checkpoint of a tenant's "
                          "ledger chain head (JSON) for an auditor to keep outside the database")
    p.add_argument("--tenant", required=True)
    p.add_argument("--out", metavar="FILE", help="also write the document to FILE")
    p.set_defaults(fn=cmd_checkpoint)
    p = ledger.add_parser("check", help="check that balances, reservations and budgets equal the sums of their rows")
    p.add_argument("--tenant")
    p.set_defaults(fn=cmd_check)


async def _each_tenant(code: str | None, fn: Any) -> bool:
    from core.context import tenant_scope
    from core.dbutil import start_database, stop_database
    from core.tenancy.queries import list_tenants

    await start_database()
    try:
        ok = True
        found = False
        for tenant in await list_tenants(include_platform=True):
            if code and tenant.code != code:
                continue
            found = True
            with tenant_scope(tenant):
                ok = await fn(tenant) and ok
        if code and not found:
            print(f"error: no tenant {code!r}")
            return False
        return ok
    finally:
        await stop_database()


def cmd_verify(args: argparse.Namespace) -> int:
    from core.audit.anchor import CheckpointError
    from core.cli import _read_checkpoint, checkpoint_tenant
    from core.funds.chain import verify

    doc = _read_checkpoint(args.checkpoint, "ledger") if args.checkpoint else None

    async def one(tenant: Any) -> bool:
        try:
            r = await verify(tenant, checkpoint=doc)
        except CheckpointError as exc:  # the tenant's id differs from the checkpoint's
            print(f"error: {exc}")
            return False
        status = "OK" if r.ok else "BROKEN"
        print(f"{tenant.code}: {status} ({r.checked} entries linked, {r.pending} pending)")
        for p in r.problems[:50]:
            print(f"  - {p}")
        if doc is not None and r.ok:
            print(f"  checkpoint of {doc['at']}: seq {doc['seq']} still holds its head")
        return r.ok

    return 0 if asyncio.run(_each_tenant(checkpoint_tenant(args, doc), one)) else 1


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from core.audit.anchor import CheckpointError
    from core.cli import print_checkpoint
    from core.funds.chain import checkpoint

    docs: list[dict[str, Any]] = []

    async def one(tenant: Any) -> bool:
        try:
            docs.append(await checkpoint(tenant))
        except CheckpointError as exc:
            print(f"error: {tenant.code}: {exc}")
            return False
        return True

    if not asyncio.run(_each_tenant(args.tenant, one)):
        return 1
    print_checkpoint(docs[0], args.out)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from core.funds.integrity import check

    async def one(tenant: Any) -> bool:
        r = await check(tenant)
        print(f"{tenant.code}: {'OK' if r.ok else 'MISMATCH'} ({r.accounts} accounts, {r.entries} entries, "
              f"{r.budgets} budgets)")
        for p in r.problems[:50]:
            print(f"  - {p}")
        return r.ok

    return 0 if asyncio.run(_each_tenant(args.tenant, one)) else 1
