"""`huijia backup`, `huijia restore`, `huijia files verify`, `huijia province export | erase` and, on
Citus, `huijia tenants isolate | move` (see core/ops/backup.py, core/ops/province.py, core/ops/citus.py,
docs/operations.md, docs/scale.md)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

BACKUP_URL_ENV = "HUIJIA_BACKUP_DATABASE_URL"


def _url(args: argparse.Namespace) -> str | None:
    url = args.database_url or os.environ.get(BACKUP_URL_ENV)
    if not url:
        print(f"error: pass --database-url or set {BACKUP_URL_ENV}: a superuser or BYPASSRLS role "
              "(the app role sees no rows under row-level security)", file=sys.stderr)
    return url


def cmd_backup(args: argparse.Namespace) -> int:
    from core.ops.backup import BackupError, backup

    url = _url(args)
    if not url:
        return 2
    try:
        manifest = asyncio.run(backup(Path(args.out), url))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = sum(manifest["table_counts"].values())
    files = sum(manifest["file_areas"].values())
    print(f"backup written to {args.out}: {len(manifest['table_counts'])} tables, {rows} rows, {files} files; "
          f"needs data keys {', '.join(manifest['data_key_ids']) or '-'} and index keys "
          f"{', '.join(manifest['index_key_ids']) or '-'} (not in the archive)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from core.files import settings_keyring
    from core.ops.backup import BackupError, restore
    from core.settings import get_settings

    url = _url(args)
    if not url:
        return 2
    data_dir = Path(args.data_dir) if args.data_dir else get_settings().data_dir
    try:
        manifest = asyncio.run(restore(Path(args.archive), url, data_dir, settings_keyring()))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"restored the backup of {manifest['created_at']} into the database and {data_dir}: row counts and "
          "chain heads match its manifest. Next: `huijia migrate` (as the owner, to grant the app role), then "
          "`huijia ledger verify`, `huijia ledger check`, `huijia audit verify` and `huijia files verify`")
    return 0


def cmd_files_verify(args: argparse.Namespace) -> int:
    from core.ops.backup import verify_files

    counts, problems = verify_files()
    for area, n in counts.items():
        print(f"{area}: {n} files decrypt")
    for p in problems[:100]:
        print(f"  - {p}")
    if problems:
        print(f"FAILED: {len(problems)} files do not decrypt")
    return 1 if problems else 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="write one archive: a consistent database snapshot and the encrypted file stores "
                       "(never the keys)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--database-url", help=f"a superuser or BYPASSRLS role (default {BACKUP_URL_ENV})")
    p.set_defaults(fn=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup into an empty database and an empty data directory")
    p.add_argument("archive")
    p.add_argument("--database-url", help=f"the new database, as its owner if a superuser or BYPASSRLS, "
                   f"else a superuser (default {BACKUP_URL_ENV})")
    p.add_argument("--data-dir", help="where the files go (default HUIJIA_DATA_DIR)")
    p.set_defaults(fn=cmd_restore)

    files = sub.add_parser("files", help="the encrypted file stores").add_subparsers(dest="sub", required=True)
    p = files.add_parser("verify", help="decrypt every stored file of every registered area (exit 1 if one fails)")
    p.set_defaults(fn=cmd_files_verify)

    add_province_commands(sub)


def cmd_province_export(args: argparse.Namespace) -> int:
    from core.ops.backup import BackupError
    from core.ops.province import export_province

    url = _url(args)
    if not url:
        return 2
    try:
        manifest = asyncio.run(export_province(args.tenant, Path(args.out), url))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = sum(manifest["table_counts"].values())
    print(f"{args.tenant}: {rows} rows in {len(manifest['table_counts'])} tables and "
          f"{sum(manifest['files'].values())} files written to {args.out}; encrypted under data keys "
          f"{', '.join(manifest['data_key_ids']) or '-'} (not in the export)")
    return 0


def cmd_province_erase(args: argparse.Namespace) -> int:
    from core.ops.backup import BackupError
    from core.ops.province import erase_province

    if args.confirm != args.tenant:
        print(f"error: erasing deletes every row and file of {args.tenant!r} for good: repeat its code with "
              "--confirm (take `huijia province export` and a backup first)", file=sys.stderr)
        return 2
    url = _url(args)
    if not url:
        return 2
    try:
        report = asyncio.run(erase_province(args.tenant, url))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    asyncio.run(_record_erasure(report))
    print(f"{args.tenant}: erased {sum(report['rows'].values())} rows and {sum(report['files'].values())} files")
    for table, n in sorted(report["rows"].items()):
        print(f"  {table}: {n}")
    print("recorded in the platform's audit log. Remove its tenants/*.toml too, or `huijia tenants sync` "
          "creates the province again (empty)")
    return 0


async def _record_erasure(report: dict[str, object]) -> None:
    """The platform's audit chain keeps that the province was erased, when, and how much (counts only)."""
    from core.actor import Actor
    from core.audit.services import record
    from core.context import tenant_scope
    from core.dbutil import with_database
    from core.tenancy.queries import get_tenant

    async def go() -> None:
        platform = await get_tenant(code="platform")
        if platform is None:
            return
        with tenant_scope(platform):
            await record(platform, Actor(None, "cli"), "tenant.erase", "tenant", report["tenant_id"],
                         {"tenant": report["tenant"], "rows": report["rows"], "files": report["files"]})

    await with_database(go)


def add_province_commands(sub: argparse._SubParsersAction) -> None:
    province = sub.add_parser("province", help="one province whole: export it, or erase it (PIPL Art. 47)")
    cmds = province.add_subparsers(dest="sub", required=True)
    p = cmds.add_parser("export", help="write the province's rows and files (still encrypted) to one archive")
    p.add_argument("--tenant", required=True)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--database-url", help=f"a superuser or BYPASSRLS role (default {BACKUP_URL_ENV})")
    p.set_defaults(fn=cmd_province_export)
    p = cmds.add_parser("erase", help="delete every row and file of the province; the others stay as they are")
    p.add_argument("--tenant", required=True)
    p.add_argument("--confirm", required=True, metavar="CODE", help="the province's code again")
    p.add_argument("--database-url", help=f"a superuser (default {BACKUP_URL_ENV})")
    p.set_defaults(fn=cmd_province_erase)


def _placement(args: argparse.Namespace, action: str) -> int:
    from core.ops import citus

    url = _url(args)
    if not url:
        return 2
    try:
        if action == "tenant.isolate":
            report = asyncio.run(citus.isolate(args.code, url, args.mode))
        else:
            report = asyncio.run(citus.move(args.code, args.node, url, args.mode))
    except citus.CitusOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not report["changed"]:
        where = report.get("node") or report.get("from")
        print(f"{args.code}: nothing to do (shard {report['shard']} on {where})")
        return 0
    asyncio.run(citus.record_operation(action, {**report, "mode": args.mode}))
    if action == "tenant.isolate":
        print(f"{args.code}: isolated on shard {report['shard']} (was {report['previous_shard']}), on {report['node']}; "
              "recorded in the platform's audit log")
    else:
        print(f"{args.code}: shard {report['shard']} moved from {report['from']} to {report['to']}; recorded in the "
              "platform's audit log")
        if not report["alone"]:
            print("note: the shard held other provinces too, and they moved with it (isolate the province first)")
    return 0


def cmd_tenants_isolate(args: argparse.Namespace) -> int:
    return _placement(args, "tenant.isolate")


def cmd_tenants_move(args: argparse.Namespace) -> int:
    return _placement(args, "tenant.move")


def add_tenant_placement_commands(tenants: argparse._SubParsersAction) -> None:
    """`huijia tenants isolate | move`: shard operations of a Citus cluster (core/ops/citus.py)."""
    from core.ops.citus import MODES

    mode_help = ("how Citus copies the rows: block_writes (default; reads go on, writes wait for the copy) or "
                 "force_logical (on PostgreSQL 15 it never finishes once the province is written to meanwhile: "
                 "docs/scale.md)")
    p = tenants.add_parser("isolate", help="Citus: give a province a shard of its own (isolate_tenant_to_new_shard)")
    p.add_argument("code", help="the province's code")
    p.add_argument("--mode", choices=MODES, default="block_writes", help=mode_help)
    p.add_argument("--database-url", help=f"a superuser or BYPASSRLS role on the coordinator (default {BACKUP_URL_ENV})")
    p.set_defaults(fn=cmd_tenants_isolate)
    p = tenants.add_parser("move", help="Citus: move a province's shard to another worker while it is served")
    p.add_argument("code", help="the province's code")
    p.add_argument("node", help="the target worker, host:port")
    p.add_argument("--mode", choices=MODES, default="block_writes", help=mode_help)
    p.add_argument("--database-url", help=f"a superuser or BYPASSRLS role on the coordinator (default {BACKUP_URL_ENV})")
    p.set_defaults(fn=cmd_tenants_move)
