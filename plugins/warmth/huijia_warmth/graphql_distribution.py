"""The warmth capability's GraphQL for distribution and receipts: resuming a distribution job, the
goods stock, receipts (the worker's own confirmation; a clerk's signature or photo), follow-up call
notes and the list of the unconfirmed."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

import strawberry

from core.sdk import (
    BigInt,
    DomainError,
    ErrorCode,
    Info,
    UserError,
    for_query,
    from_global_id,
    in_subtree,
    perm,
    raw,
    require_in_subtree,
    require_worker,
    run_mutation,
)
from huijia_warmth.graphql import (
    _CAMPAIGNS,
    WarmthBeneficiary,
    WarmthCampaign,
    WarmthCampaignPayload,
    _beneficiary,
)


def _beneficiary_pk(value: strawberry.ID) -> int:
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        raise DomainError(ErrorCode.INVALID_INPUT, "beneficiaryId is not a beneficiary id", "beneficiaryId")
    return int(text)


@strawberry.type(description="Goods an in-kind campaign holds: quantity left and given.")
class WarmthStock:
    item: str
    quantity: BigInt  # type: ignore[valid-type]
    given: BigInt  # type: ignore[valid-type]


@strawberry.type(description="A follow-up call to a beneficiary.")
class WarmthFollowup:
    note: str
    created_at: dt.datetime


@strawberry.type(description="A served beneficiary who has not confirmed receipt, with the follow-up call notes.")
class WarmthUnconfirmed:
    beneficiary: WarmthBeneficiary
    followups: list[WarmthFollowup]


@strawberry.type(description="A benefit given to the logged-in worker.")
class WarmthMyBenefit:
    beneficiary: WarmthBeneficiary
    campaign_name: str


@strawberry.type
class WarmthStockPayload:
    stock: WarmthStock | None = None
    errors: list[UserError]


@strawberry.type
class WarmthReceiptPayload:
    beneficiary: WarmthBeneficiary | None = None
    errors: list[UserError]


@strawberry.type
class WarmthFollowupPayload:
    followup: WarmthFollowup | None = None
    errors: list[UserError]


async def _readable_campaign(info: Info, campaign_id: strawberry.ID) -> tuple[Any, int]:
    tenant, principal = info.context.require("warmth.read")
    pk = from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1]
    rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, pk)
    if not rows or not in_subtree(principal, "warmth.read", rows[0]["unit_path"]):
        raise DomainError(ErrorCode.NOT_FOUND, "campaign not found", "campaignId")
    return tenant, pk


@strawberry.type
class WarmthDistributionQuery:
    @strawberry.field(description=perm("warmth.read", "A campaign's goods stock."))
    @for_query
    async def warmth_stock(self, info: Info, campaign_id: strawberry.ID) -> list[WarmthStock]:
        tenant, pk = await _readable_campaign(info, campaign_id)
        rows = await raw("SELECT * FROM warmth_stock WHERE tenant_id = {} AND campaign_id = {} ORDER BY item",
                         tenant.id, pk)
        return [WarmthStock(item=r["item"], quantity=r["quantity"], given=r["given"]) for r in rows]

    @strawberry.field(description=perm("warmth.read", "Served beneficiaries who have not confirmed receipt, oldest "
                                                      "first, each with the notes of follow-up calls (at most 500)."))
    @for_query
    async def warmth_unconfirmed(self, info: Info, campaign_id: strawberry.ID) -> list[WarmthUnconfirmed]:
        tenant, pk = await _readable_campaign(info, campaign_id)
        rows = await raw("SELECT * FROM warmth_beneficiary WHERE tenant_id = {} AND campaign_id = {} AND paid_at IS NOT "
                         "NULL AND receipt_at IS NULL ORDER BY id LIMIT 500", tenant.id, pk)
        notes: dict[int, list[WarmthFollowup]] = {}
        if rows:
            # One query for every row's notes (no query per beneficiary).
            for n in await raw("SELECT beneficiary_id, note, created_at FROM warmth_followup WHERE tenant_id = {} AND "
                               "campaign_id = {} AND beneficiary_id >= {} AND beneficiary_id <= {} ORDER BY id",
                               tenant.id, pk, rows[0]["id"], rows[-1]["id"]):
                notes.setdefault(n["beneficiary_id"], []).append(WarmthFollowup(note=n["note"], created_at=n["created_at"]))
        return [WarmthUnconfirmed(beneficiary=_beneficiary(r), followups=notes.get(r["id"], [])) for r in rows]

    @strawberry.field(description=perm("worker.self", "Worker portal: the warmth benefits given to me."))
    async def my_warmth_benefits(self, info: Info) -> list[WarmthMyBenefit]:
        me = await require_worker(info)
        if me.member_id is None:
            return []
        rows = await raw("SELECT b.*, c.name AS campaign_name FROM warmth_beneficiary b JOIN warmth_campaign c ON "
                         "c.tenant_id = b.tenant_id AND c.id = b.campaign_id WHERE b.tenant_id = {} AND b.member_id = {} "
                         "AND b.paid_at IS NOT NULL ORDER BY b.id DESC LIMIT 100", me.tenant.id, me.member_id)
        return [WarmthMyBenefit(beneficiary=_beneficiary(r), campaign_name=r["campaign_name"]) for r in rows]


@strawberry.type
class WarmthFilePayload:
    job_id: strawberry.ID | None = strawberry.field(default=None, description="Poll it with `job(id)`.")
    download_url: str | None = strawberry.field(default=None, description="GET it (Bearer token) once the job succeeded.")
    errors: list[UserError]


@strawberry.type
class WarmthDistributionMutation:
    @strawberry.mutation(description=perm("warmth.read", "Export the campaign's 台账 (XLSX: union, name, masked ID "
                                                         "number, household, amount or goods, date, receipt status; "
                                                         "grouped by org unit) as a job; download it from downloadUrl."))
    async def warmth_ledger_file_start(self, info: Info, campaign_id: strawberry.ID) -> WarmthFilePayload:
        from core.sdk import to_global_id
        from huijia_warmth.ledger_file import start

        async def work() -> dict[str, Any]:
            tenant, pk = await _readable_campaign(info, campaign_id)
            rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, pk)
            job_id = await start(tenant, info.context.actor, rows[0])
            return {"job_id": strawberry.ID(to_global_id("Job", job_id)), "download_url": f"/warmth-files/{job_id}"}

        return await run_mutation(WarmthFilePayload, work)

    @strawberry.mutation(description=perm("warmth.write", "Run a distributing campaign's job again (after its worker "
                                                          "died or it failed); it continues where it stopped and pays "
                                                          "no one twice."))
    async def warmth_distribution_resume(self, info: Info, campaign_id: strawberry.ID) -> WarmthCampaignPayload:
        from huijia_warmth.money import start_distribution

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.read")
            pk = from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1]
            rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, pk)
            if not rows or not in_subtree(principal, "warmth.read", rows[0]["unit_path"]):
                raise DomainError(ErrorCode.NOT_FOUND, "campaign not found", "campaignId")
            require_in_subtree(principal, "warmth.write", rows[0]["unit_path"], what="campaign", field="campaignId",
                               read_action="warmth.read")
            if rows[0]["state"] != "distributing":
                raise DomainError(ErrorCode.INVALID_STATE, f"the campaign is {rows[0]['state']}, not distributing",
                                  "campaignId", "活动不在发放中")
            await start_distribution(tenant, info.context.actor, pk)
            rows = await raw(_CAMPAIGNS + " AND c.id = {}", tenant.id, pk)
            return {"campaign": WarmthCampaign.from_row(rows[0])}

        return await run_mutation(WarmthCampaignPayload, work)

    @strawberry.mutation(description=perm("warmth.write", "Set how many units of an in-kind item the campaign holds."))
    async def warmth_stock_set(self, info: Info, campaign_id: strawberry.ID, item: str,
                               quantity: BigInt) -> WarmthStockPayload:  # type: ignore[valid-type]
        from huijia_warmth.receipts import set_stock

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            r = await set_stock(tenant, principal, info.context.actor,
                                from_global_id(campaign_id, "WarmthCampaign", "campaignId")[1], item, int(quantity))
            return {"stock": WarmthStock(item=r["item"], quantity=r["quantity"], given=r["given"])}

        return await run_mutation(WarmthStockPayload, work)

    @strawberry.mutation(description=perm("worker.self", "Worker portal: confirm that I received my benefit (my own "
                                                         "row only; another's reads as NOT_FOUND)."))
    async def warmth_receipt_confirm(self, info: Info, beneficiary_id: strawberry.ID) -> WarmthReceiptPayload:
        from huijia_warmth.receipts import confirm_by_worker

        async def work() -> dict[str, Any]:
            me = await require_worker(info)
            row = await confirm_by_worker(me.tenant, me, info.context.actor, _beneficiary_pk(beneficiary_id))
            return {"beneficiary": _beneficiary(row)}

        return await run_mutation(WarmthReceiptPayload, work)

    @strawberry.mutation(description=perm("warmth.write", "Record a signature, fingerprint or photo (JPEG, PNG or PDF, "
                                                          "at most 10 MB, base64) as a beneficiary's receipt."))
    async def warmth_receipt_record(self, info: Info, beneficiary_id: strawberry.ID, kind: str,
                                    content_base64: str) -> WarmthReceiptPayload:
        from huijia_warmth.receipts import MAX_FILE, record_by_clerk

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            if len(content_base64) > MAX_FILE * 4 // 3 + 8:
                raise DomainError(ErrorCode.INVALID_INPUT, "the file is larger than 10 MB", "contentBase64",
                                  "文件超过10MB")
            try:
                content = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise DomainError(ErrorCode.INVALID_INPUT, "contentBase64 is not base64", "contentBase64",
                                  "文件编码不正确") from None
            row = await record_by_clerk(tenant, principal, info.context.actor, _beneficiary_pk(beneficiary_id), kind,
                                        content)
            return {"beneficiary": _beneficiary(row)}

        return await run_mutation(WarmthReceiptPayload, work)

    @strawberry.mutation(description=perm("warmth.write", "Note a follow-up call to a beneficiary."))
    async def warmth_followup_add(self, info: Info, beneficiary_id: strawberry.ID, note: str) -> WarmthFollowupPayload:
        from huijia_warmth.receipts import add_followup

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("warmth.write")
            r = await add_followup(tenant, principal, info.context.actor, _beneficiary_pk(beneficiary_id), note)
            return {"followup": WarmthFollowup(note=r["note"], created_at=r["created_at"])}

        return await run_mutation(WarmthFollowupPayload, work)
