"""Station photos in core's encrypted file store. A photo's type is decided by its bytes (JPEG or
PNG), never by its name or the type the client claims; staff download any photo of a station in
their read subtree, and the public finder shows the ones marked public."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

from core.sdk import DomainError, ErrorCode, TenantContext, audit_record, files, raw, transaction
from huijia_service_network.services import invalid

AREA, KIND = "service_network", "photo"
MAX_PHOTO = 5 * 1024 * 1024  # a phone photo, resized by any map app's upload
MAX_PER_STATION = 20
SNIFF = (("image/jpeg", b"\xff\xd8\xff"), ("image/png", b"\x89PNG\r\n\x1a\n"))


def sniff(content: bytes) -> str | None:
    return next((ctype for ctype, magic in SNIFF if content.startswith(magic)), None)


async def add(tenant: TenantContext, actor: Any, user_id: int, station_id: int, filename: str, content: bytes,
              claimed_type: str | None, public: bool, caption: str) -> int:
    if not content or len(content) > MAX_PHOTO:
        raise invalid(f"a photo must have 1 byte to {MAX_PHOTO} bytes", "contentBase64", "照片为空或超过5MB")
    ctype = sniff(content)
    if ctype is None or (claimed_type and claimed_type != ctype):
        raise invalid("the file is not the JPEG or PNG it claims to be", "contentBase64", "文件内容不是所声明的JPG或PNG图片")
    caption = (caption or "").strip()
    if len(caption) > 100 or "\x00" in caption:
        raise invalid("caption is longer than 100 characters", "caption", "说明不能超过100字")
    name = (filename or "photo").replace("/", "_").replace("\\", "_").strip()[:200] or "photo"
    async with transaction():
        # One station's photos are counted under its row's lock, so two uploads cannot pass the limit.
        await raw("SELECT id FROM sn_station WHERE tenant_id = {} AND id = {}" + _lock(), tenant.id, station_id)
        n = (await raw("SELECT count(*) AS n FROM sn_station_photo WHERE tenant_id = {} AND station_id = {}",
                       tenant.id, station_id))[0]["n"]
        if n >= MAX_PER_STATION:
            raise DomainError(ErrorCode.INVALID_STATE, f"a station has at most {MAX_PER_STATION} photos", "stationId",
                              f"每个驿站最多{MAX_PER_STATION}张照片")
        row = (await raw("INSERT INTO sn_station_photo (tenant_id, station_id, filename, content_type, size, sha256, public, "
                         "caption, created_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
                         tenant.id, station_id, name, ctype, len(content), hashlib.sha256(content).hexdigest(), public,
                         caption, user_id, dt.datetime.now(dt.UTC)))[0]
        pid = int(row["id"])
        # Written before the transaction commits: a failed write leaves no row pointing at nothing.
        files.store(AREA).store_stream(iter([content]), KIND, tenant.id, pid)
        await audit_record(tenant, actor, "service_network.station.photo_add", "Station", station_id,
                           {"photo_id": pid, "content_type": ctype, "size": len(content), "public": public})
    return pid


async def remove(tenant: TenantContext, actor: Any, photo: dict[str, Any]) -> None:
    async with transaction():
        await raw("DELETE FROM sn_station_photo WHERE tenant_id = {} AND id = {}", tenant.id, photo["id"])
        await audit_record(tenant, actor, "service_network.station.photo_remove", "Station", photo["station_id"],
                           {"photo_id": photo["id"]})
    files.store(AREA).delete_stored(KIND, tenant.id, int(photo["id"]))


def chunks(tenant_id: int, photo_id: int) -> Iterator[bytes]:
    with files.store(AREA).open_stored(KIND, tenant_id, photo_id) as f:
        yield from iter(lambda: f.read(256 * 1024), b"")


def _lock() -> str:
    from core.sdk import get_settings

    return " FOR UPDATE" if get_settings().is_postgres else ""
