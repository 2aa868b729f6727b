"""The `huijia` command: serve, worker, migrate, tenants sync, users create, demo, audit verify."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Any

DEMO_PASSWORD = "huijia-demo"
# (username, role, display name) created at each demo province's root unit.
DEMO_USERS = [
    ("admin", "tenant_admin", "系统管理员"),
    ("approver", "approver", "审核员"),
    ("clerk", "clerk", "经办人"),
    ("finance", "finance", "财务"),
    ("auditor", "auditor", "审计员"),
]


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with_db(fn: Any) -> Any:
    from core.bootstrap import start_database, stop_database

    await start_database()
    try:
        return await fn()
    finally:
        await stop_database()


def cmd_migrate(args: argparse.Namespace) -> int:
    from core.bootstrap import migrate

    _run(_with_db(lambda: migrate(quiet=not args.verbose)))
    print("migrations: up to date")
    return 0


def cmd_tenants_sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.tenancy.manifest import ManifestError, TENANTS_DIR, sync_all

    async def go() -> Any:
        return await sync_all(Path(args.dir) if args.dir else TENANTS_DIR)

    try:
        report = _run(_with_db(go))
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"tenants: created {report.created or '-'}, updated {report.updated or '-'}, unchanged {report.unchanged or '-'}; "
          f"units created {report.units_created}, updated {report.units_updated}")
    return 0


async def _create_user(tenant_code: str, username: str, password: str, role: str, unit_code: str | None,
                       display_name: str = "", exist_ok: bool = False) -> str:
    from core.accounts import services as accounts
    from core.audit.services import Actor
    from core.errors import DomainError, ErrorCode
    from core.tenancy import services as tenancy
    from core.tenancy.context import tenant_scope

    tenant = await tenancy.get_tenant(code=tenant_code)
    if tenant is None:
        raise SystemExit(f"error: no tenant {tenant_code!r}")
    with tenant_scope(tenant):
        unit = await (tenancy.get_unit_by_code(tenant, unit_code) if unit_code else tenancy.root_unit(tenant))
        if unit is None:
            raise SystemExit(f"error: no org unit {unit_code!r} in {tenant_code}")
        try:
            await accounts.create_user(tenant, Actor(None, "cli"), username=username, password=password,
                                       display_name=display_name, grants=[(role, unit["id"])])
        except DomainError as exc:
            if exist_ok and exc.code is ErrorCode.DUPLICATE:
                return "exists"
            raise SystemExit(f"error: {exc.message}") from None
    return "created"


def cmd_users_create(args: argparse.Namespace) -> int:
    password = os.environ.get("HUIJIA_NEW_PASSWORD") or getpass.getpass("password: ")
    result = _run(_with_db(lambda: _create_user(args.tenant, args.username, password, args.role, args.unit, args.display_name or "")))
    print(f"user {args.username}@{args.tenant}: {result}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from core.settings import get_settings

    settings = get_settings()
    if settings.is_postgres and not args.force:
        print("error: demo data is for the embedded default (SQLite) only; pass --force to load it anyway", file=sys.stderr)
        return 2

    async def go() -> list[str]:
        from core.bootstrap import migrate
        from core.tenancy.manifest import sync_all

        await migrate()
        report = await sync_all()
        lines = []
        for code in report.created + report.updated + report.unchanged:
            for username, role, name in DEMO_USERS:
                await _create_user(code, username, DEMO_PASSWORD, role, None, name, exist_ok=True)
            lines.append(code)
        await _create_user("platform", "operator", DEMO_PASSWORD, "platform_admin", None, "平台运营", exist_ok=True)
        from core.demo import seed_all

        for r in await seed_all(lines):
            print(f"  {r.tenant}: {r.members_created} members, {r.households_created} households, "
                  f"{r.entries_posted} ledger entries added")
        return lines

    codes = _run(_with_db(go))
    print("demo provinces loaded. Log in with (tenant / username / password):")
    for code in codes:
        print(f"  {code:10s} admin / {DEMO_PASSWORD}   (also approver, clerk, finance, auditor)")
    print(f"  {'platform':10s} operator / {DEMO_PASSWORD}   (platform operator)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from core.settings import get_settings

    if args.demo and cmd_demo(argparse.Namespace(force=False)) != 0:
        return 2
    settings = get_settings()
    uvicorn.run("core.app:create_app", factory=True, host=args.host or settings.host, port=args.port or settings.port,
                log_config=None, access_log=False, workers=args.workers)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from arq.worker import run_worker

    from core.jobs.worker import worker_settings
    from core.settings import get_settings

    if not get_settings().redis_url:
        print("error: REDIS_URL is not set; without it jobs run in-process inside `huijia serve`", file=sys.stderr)
        return 2
    run_worker(worker_settings())  # type: ignore[arg-type]
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from core.audit.services import verify_chain
    from core.tenancy.context import tenant_scope
    from core.tenancy.services import list_tenants

    async def go() -> bool:
        ok = True
        for tenant in await list_tenants(include_platform=True):
            if args.tenant and tenant.code != args.tenant:
                continue
            with tenant_scope(tenant):
                result = await verify_chain(tenant)
            print(f"{tenant.code}: {'OK' if result.ok else 'BROKEN'} ({result.checked} records)")
            for p in result.problems[:50]:
                print(f"  - {p}")
            ok = ok and result.ok
        return ok

    return 0 if _run(_with_db(go)) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="huijia", description="Huijia (会家) platform command line")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the web server")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--demo", action="store_true", help="migrate and load demo provinces first (embedded default)")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("worker", help="run the arq job worker (needs REDIS_URL)")
    p.set_defaults(fn=cmd_worker)

    p = sub.add_parser("migrate", help="run database migrations forward")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(fn=cmd_migrate)

    tenants = sub.add_parser("tenants", help="province tenants").add_subparsers(dest="sub", required=True)
    p = tenants.add_parser("sync", help="create or update tenants from tenants/*.toml (idempotent)")
    p.add_argument("--dir")
    p.set_defaults(fn=cmd_tenants_sync)

    users = sub.add_parser("users", help="users").add_subparsers(dest="sub", required=True)
    p = users.add_parser("create", help="create a user (password from HUIJIA_NEW_PASSWORD or a prompt)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--unit", help="org unit code (default: the province root)")
    p.add_argument("--display-name")
    p.set_defaults(fn=cmd_users_create)

    p = sub.add_parser("demo", help="migrate, sync tenants and create demo users (embedded default)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(fn=cmd_demo)

    audit = sub.add_parser("audit", help="audit log").add_subparsers(dest="sub", required=True)
    p = audit.add_parser("verify", help="check every tenant's audit hash chain")
    p.add_argument("--tenant")
    p.set_defaults(fn=cmd_audit_verify)

    from core.funds.cli import add_commands as add_ledger_commands

    add_ledger_commands(sub)

    from core.members.keys import add_commands as add_key_commands

    add_key_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.settings import SettingsError

    args = build_parser().parse_args(argv)
    try:
        from core.settings import get_settings

        get_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
