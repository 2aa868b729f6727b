"""The `huijia` command: serve, worker, migrate, tenants sync, users create, demo, audit verify/checkpoint, plugin new."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path
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
    from core.bootstrap import with_database

    return await with_database(fn)


def cmd_migrate(args: argparse.Namespace) -> int:
    from core.bootstrap import migrate
    from core.dbroles import RoleError, role_of
    from core.settings import get_settings, reload_settings

    settings = get_settings()
    owner_url = args.owner_url or settings.database_owner_url
    app_role = None
    if owner_url and owner_url != settings.database_url:
        if not settings.is_postgres:
            print("error: a separate owner role is for PostgreSQL; DATABASE_URL is not postgresql://", file=sys.stderr)
            return 2
        app_role = args.app_role or role_of(settings.database_url)
        if not app_role:
            print("error: DATABASE_URL names no user: pass --app-role", file=sys.stderr)
            return 2
        if "piccolo_conf" in sys.modules:  # the engine would already be bound to the app role
            print("error: the database engine was set up before migrate could switch to the owner", file=sys.stderr)
            return 2
        # This process only migrates: from here on it is the owner (the engine is built from settings).
        os.environ["DATABASE_URL"] = owner_url
        reload_settings()
    try:
        _run(_with_db(lambda: migrate(quiet=not args.verbose, grant_to=app_role)))
    except RoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("migrations: up to date" + (f"; app role {app_role} granted row access" if app_role else ""))
    return 0


def cmd_tenants_sync(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.tenancy.manifest import TENANTS_DIR, ManifestError, sync_all

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
    from core.actor import Actor
    from core.context import tenant_scope
    from core.errors import DomainError, ErrorCode
    from core.tenancy import queries as tenancy

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
        from core.registry import get_registry

        for _plugin, seed in get_registry().demo_data:
            for line in await seed(lines):
                print(f"  {line}")
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
    from core.logging import configure_logging
    from core.settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        print("error: REDIS_URL is not set; without it jobs run in-process inside `huijia serve`", file=sys.stderr)
        return 2
    # As `serve` does: JSON lines through the formatter that keeps personal data out (arq's own
    # logger and a crash's traceback included).
    configure_logging(settings.log_level)
    run_worker(worker_settings())
    return 0


def _read_checkpoint(path: str, chain: str) -> dict[str, Any]:
    """The checkpoint document at ``path`` (``-`` for stdin), signature checked. SystemExit(2) if unusable."""
    from core.audit.anchor import CheckpointError, parse_checkpoint

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return parse_checkpoint(text, chain)
    except (OSError, CheckpointError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def checkpoint_tenant(args: argparse.Namespace, doc: dict[str, Any] | None) -> str | None:
    """Which tenant to verify: --tenant, or the checkpoint's; both must agree."""
    if doc is None:
        return args.tenant
    if args.tenant and args.tenant != doc["tenant"]:
        print(f"error: the checkpoint is for tenant {doc['tenant']!r}, not {args.tenant!r}", file=sys.stderr)
        raise SystemExit(2)
    return doc["tenant"]


def print_checkpoint(doc: dict[str, Any], out: str | None) -> None:
    import json

    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    sys.stdout.write(text)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from core.audit.anchor import CheckpointError
    from core.audit.services import verify_chain
    from core.context import tenant_scope
    from core.tenancy.queries import list_tenants

    doc = _read_checkpoint(args.checkpoint, "audit") if args.checkpoint else None
    code = checkpoint_tenant(args, doc)

    async def go() -> bool:
        ok = True
        found = False
        for tenant in await list_tenants(include_platform=True):
            if code and tenant.code != code:
                continue
            found = True
            with tenant_scope(tenant):
                try:
                    result = await verify_chain(tenant, checkpoint=doc)
                except CheckpointError as exc:  # the tenant's id differs from the checkpoint's
                    print(f"error: {exc}", file=sys.stderr)
                    return False
            print(f"{tenant.code}: {'OK' if result.ok else 'BROKEN'} ({result.checked} records)")
            for p in result.problems[:50]:
                print(f"  - {p}")
            if doc is not None and result.ok:
                print(f"  checkpoint of {doc['at']}: seq {doc['seq']} still holds its head")
            ok = ok and result.ok
        if code and not found:
            print(f"error: no tenant {code!r}", file=sys.stderr)
            return False
        return ok

    return 0 if _run(_with_db(go)) else 1


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    from core.audit.anchor import CheckpointError
    from core.audit.services import checkpoint
    from core.context import tenant_scope
    from core.tenancy.queries import get_tenant

    async def go() -> dict[str, Any] | None:
        tenant = await get_tenant(code=args.tenant)
        if tenant is None:
            print(f"error: no tenant {args.tenant!r}", file=sys.stderr)
            return None
        with tenant_scope(tenant):
            try:
                return await checkpoint(tenant)
            except CheckpointError as exc:
                print(f"error: {args.tenant}: {exc}", file=sys.stderr)
                return None

    doc = _run(_with_db(go))
    if doc is None:
        return 1
    print_checkpoint(doc, args.out)
    return 0


def cmd_plugin_new(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.scaffold import ScaffoldError, generate

    target = Path(args.dir or "plugins") / args.name
    try:
        files = generate(args.name, target, capability=args.capability)
    except ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kind = "capability plugin" if args.capability else "province plugin"
    print(f"created {kind} {args.name!r} in {target} ({len(files)} files)")
    print(f"next: install it into this environment (uv pip install -e {target}), then run pytest in {target}")
    return 0


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
    p.add_argument("--owner-url", help="connect as this owner role (default DATABASE_OWNER_URL), then grant the "
                   "app role (the user of DATABASE_URL) row access only")
    p.add_argument("--app-role", help="the app role to grant, when DATABASE_URL names no user")
    p.set_defaults(fn=cmd_migrate)

    tenants = sub.add_parser("tenants", help="province tenants").add_subparsers(dest="sub", required=True)
    p = tenants.add_parser("sync", help="create or update tenants from tenants/*.toml (idempotent)")
    p.add_argument("--dir")
    p.set_defaults(fn=cmd_tenants_sync)
    from core.ops.cli import add_tenant_placement_commands

    add_tenant_placement_commands(tenants)

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
    p = audit.add_parser("verify", help="check every tenant's audit hash chain and its anchored head")
    p.add_argument("--tenant")
    p.add_argument("--checkpoint", metavar="FILE", help="also prove the chain still holds this checkpoint's head "
                   "(a document from `huijia audit checkpoint`; - for stdin); implies its tenant")
    p.set_defaults(fn=cmd_audit_verify)
    p = audit.add_parser("checkpoint", help="print a signed checkpoint of a tenant's audit chain head (JSON) for an "
                         "auditor to keep outside the database")
    p.add_argument("--tenant", required=True)
    p.add_argument("--out", metavar="FILE", help="also write the document to FILE")
    p.set_defaults(fn=cmd_audit_checkpoint)

    plugin = sub.add_parser("plugin", help="plugin developer's kit").add_subparsers(dest="sub", required=True)
    p = plugin.add_parser("new", help="scaffold a plugin package (province plugin, or --capability)")
    p.add_argument("name", help="the plugin's name: a lower-case Python identifier, e.g. anhui")
    p.add_argument("--capability", action="store_true", help="a capability plugin (tables, GraphQL, jobs, hooks)")
    p.add_argument("--dir", help="parent directory of the new package (default: plugins)")
    p.set_defaults(fn=cmd_plugin_new)

    from core.ops.cli import add_commands as add_ops_commands

    add_ops_commands(sub)
    add_registered_commands(sub)
    return parser


def add_registered_commands(sub: Any, registry: Any = None) -> None:
    """Add the subcommands domains and plugins register (``register_cli``); a name taken twice stops."""
    from core.plugins import PluginError
    from core.registry import get_registry

    for plugin, add in (registry or get_registry()).cli:
        try:
            add(sub)
        except argparse.ArgumentError as exc:  # argparse (3.11+) refuses a second parser of one name
            raise PluginError(f"plugin {plugin!r}: cannot add its commands: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    from core.plugins import PluginError
    from core.settings import SettingsError

    try:
        parser = build_parser()
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        from core.settings import get_settings

        get_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
