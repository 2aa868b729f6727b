"""`huijia keys rotate` re-encrypts the files of every registered file-store area (members' uploads
and exports, ledger report files, hardship attachments), so the old key can be retired without
losing a file."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from tests.integration.drill import STORED, demo_deployment, huijia, plaintext

# The scratch databases are owned by the run's roles, which the run's database fixture creates.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("database")]


async def test_rotation_reaches_every_areas_files(tmp_path: Path) -> None:
    from core.files import FileStore
    from core.pii import Keyring
    from core.settings import get_settings

    dev = get_settings().pii_keys  # the keys the files were written under
    new = "k5:" + base64.b64encode(os.urandom(32)).decode()
    async with demo_deployment("rot", tmp_path / "data", demo=False) as (db, data, tenants):
        code, out = await huijia(db, data, "keys", "rotate", env={"HUIJIA_PII_KEYS": f"{new},{dev}"})
        assert code == 0, out
        assert "files.exports: 3" in out and "files.funds.reports: 3" in out and "files.hardship.attachment: 3" in out

        # The old key retired: every file still decrypts, to what was stored.
        code, out = await huijia(db, data, "files", "verify", env={"HUIJIA_PII_KEYS": new})
        assert code == 0, out
        assert "funds: 3 files decrypt" in out and "hardship: 3 files decrypt" in out and "members: 3 files" in out
        ring = Keyring.from_settings(new, get_settings().pii_index_keys)
        for area, kind, prefix in STORED:
            st = FileStore(area, root=lambda a=area: data / a, keyring=lambda: ring, context_prefix=prefix)
            for tid in tenants.values():
                if st.stored_exists(kind, tid, 1):
                    with st.open_stored(kind, tid, 1) as f:
                        assert f.read() == plaintext(area, tid, 1)

        # Without the new key, verify names the key each file needs.
        code, out = await huijia(db, data, "files", "verify", env={"HUIJIA_PII_KEYS": dev})
        assert code == 1 and "needs key 'k5'" in out and "FAILED: 9 files" in out
