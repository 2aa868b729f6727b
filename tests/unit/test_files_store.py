"""core.files: the encrypted store every capability uses for attachments (members use its own area)."""

from __future__ import annotations

import shutil

import pytest

from core.files import CHUNK, FileStore, store
from core.pii import DecryptError


def test_a_capability_area_round_trips_and_seeks(tmp_path) -> None:
    area = FileStore("hardship", root=lambda: tmp_path)
    data = bytes(range(256)) * (CHUNK // 128 + 3)  # three chunks, the last one short
    assert area.store_stream(iter([data[:100], data[100:]]), "attachments", 7, 42) == len(data)
    path = area.path_for("attachments", 7, 42)
    assert path == tmp_path / "attachments" / "7" / "42.enc"
    assert data[:64] not in path.read_bytes()  # encrypted at rest
    with area.open_stored("attachments", 7, 42) as f:
        f.seek(CHUNK + 5)
        assert f.read(10) == data[CHUNK + 5 : CHUNK + 15]
        f.seek(0)
        assert f.read() == data
    assert area.stored_ids("attachments", 7) == [42]
    assert area.purge_stored("attachments", 7, 42) and not area.stored_exists("attachments", 7, 42)


def test_a_file_moved_to_another_tenant_or_area_does_not_decrypt(tmp_path) -> None:
    hardship = FileStore("hardship", root=lambda: tmp_path / "hardship")
    warmth = FileStore("warmth", root=lambda: tmp_path / "warmth")
    hardship.store_stream(iter([b"secret scan"]), "attachments", 1, 5)
    other_tenant = hardship.path_for("attachments", 2, 5)
    other_tenant.parent.mkdir(parents=True)
    shutil.copy(hardship.path_for("attachments", 1, 5), other_tenant)
    with pytest.raises(DecryptError):
        hardship.open_stored("attachments", 2, 5).read()
    other_area = warmth.path_for("attachments", 1, 5)
    other_area.parent.mkdir(parents=True)
    shutil.copy(hardship.path_for("attachments", 1, 5), other_area)
    with pytest.raises(DecryptError):
        warmth.open_stored("attachments", 1, 5).read()


def test_store_gives_one_area_per_name_and_refuses_path_tricks() -> None:
    assert store("procurement") is store("procurement")
    assert store("procurement").root().name == "procurement"
    with pytest.raises(ValueError):
        FileStore("../etc")
    with pytest.raises(ValueError):
        store("procurement").path_for("../x", 1, 1)
