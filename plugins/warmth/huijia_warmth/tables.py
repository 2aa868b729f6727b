"""The warmth capability's tenant-owned tables (row-level security in the fence migration).

A campaign belongs to the org unit that runs it; who may read or change it follows that unit's
subtree. Its groups and budgets are rows of their own, so preview and reservation can join them.
"""

from piccolo.columns import BigInt, BigSerial, Boolean, Date, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import OrgUnitTable, TenantTable


class WarmthCampaign(Table, tablename="warmth_campaign"):
    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    name = Varchar(length=100)
    kind = Varchar(length=30)
    starts_on = Date()
    ends_on = Date()
    fund = Varchar(length=30)  # the paying fund's code in the ledger
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    distribution_job_id = BigInt(null=True, default=None)


class WarmthCampaignGroup(Table, tablename="warmth_campaign_group"):
    """One target group of a campaign and its benefit: cash (amount_fen, 0 = the rule's amount) or
    goods (item and its unit value)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    campaign_id = ForeignKey(WarmthCampaign, null=False, index=True, on_delete=OnDelete.cascade)
    group_code = Varchar(length=40)
    form = Varchar(length=10)  # cash | in_kind
    amount_fen = BigInt(default=0)
    item = Varchar(length=100, null=True, default=None)
    per_household = Boolean(default=False)


class WarmthCampaignBudget(Table, tablename="warmth_campaign_budget"):
    """The budget a campaign gives one org unit in its subtree (allocations down the tree)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    campaign_id = ForeignKey(WarmthCampaign, null=False, index=True, on_delete=OnDelete.cascade)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    budget_fen = BigInt(default=0)
    # The ledger reservation holding this budget from approval until the campaign closes.
    reservation_id = BigInt(null=True, default=None)


class WarmthBeneficiary(Table, tablename="warmth_beneficiary"):
    """One person on a campaign's list, in one group. ``amount_fen`` is written when the campaign is
    approved, with the member's unit and household as they were then: the frozen list, which later
    member edits never change (this row copies what it needs rather than joining the member)."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    campaign_id = ForeignKey(WarmthCampaign, null=False, index=True, on_delete=OnDelete.cascade)
    member_id = BigInt()
    household_id = BigInt(null=True, default=None)
    org_unit_id = ForeignKey(OrgUnitTable, null=False, index=True, on_delete=OnDelete.restrict)
    group_code = Varchar(length=40)
    reason = Varchar(length=200)
    amount_fen = BigInt(null=True, default=None)
    frozen_at = Timestamptz(null=True, default=None)
    added_by = BigInt(null=True, default=None)
    # The budget row that pays this person (the deepest budget unit above their union), fixed at approval.
    budget_id = BigInt(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)
    entry_id = BigInt(null=True, default=None)  # the ledger entry of a cash payment
    item_given = Varchar(length=100, null=True, default=None)  # the goods of an in-kind benefit
    receipt_at = Timestamptz(null=True, default=None)
    receipt_method = Varchar(length=20, null=True, default=None)  # portal | signature | photo
    receipt_file_id = BigInt(null=True, default=None)
    receipt_by = BigInt(null=True, default=None)


class WarmthStock(Table, tablename="warmth_stock"):
    """Goods a campaign holds for its in-kind benefits; distribution decrements it one per person."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    campaign_id = ForeignKey(WarmthCampaign, null=False, index=True, on_delete=OnDelete.cascade)
    item = Varchar(length=100)
    quantity = BigInt(default=0)
    given = BigInt(default=0)


class WarmthFollowup(Table, tablename="warmth_followup"):
    """A note of a follow-up call to a beneficiary who has not confirmed receipt."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    campaign_id = ForeignKey(WarmthCampaign, null=False, index=True, on_delete=OnDelete.cascade)
    beneficiary_id = BigInt(default=0, index=True)
    note = Varchar(length=500)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WarmthReceiptFile(Table, tablename="warmth_receipt_file"):
    """A signature or photo a clerk recorded as proof of receipt; its bytes are in core's encrypted file store."""

    id = BigSerial(primary_key=True)
    tenant_id = ForeignKey(TenantTable, null=False, index=True, on_delete=OnDelete.restrict)
    campaign_id = ForeignKey(WarmthCampaign, null=False, index=True, on_delete=OnDelete.cascade)
    beneficiary_id = BigInt(default=0, index=True)
    kind = Varchar(length=20)
    content_type = Varchar(length=50)
    size_bytes = BigInt(default=0)
    sha256 = Varchar(length=64)
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
