"""`huijia backup`, `huijia restore` and `huijia files verify` (see core/ops/backup.py, docs/operations.md)."""

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


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
