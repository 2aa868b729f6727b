"""The one public API for plugins: import from here, and only here.

Capability and province plugins import ``core.sdk`` (plus third-party libraries: piccolo,
strawberry, msgspec, arq) and nothing else from ``core``; the import-linter contracts in
``pyproject.toml`` enforce it, so core can move its internals without breaking a plugin. Everything
listed in ``__all__`` is stable API: adding is safe, renaming or removing bumps ``CORE_VERSION``'s
minor and needs a deprecation first. ``docs/plugins.md`` walks through each group with examples.

Groups:

- plugin contract: :data:`hookimpl`, :data:`hookspec`, :data:`CORE_CONTRACT` (core's hook contract
  version, to declare in ``PluginInfo.contracts``), :class:`ContractVersion` and :func:`renamed_arg`
  (for a capability's own hookspecs module), the interface dataclasses
  (:class:`PluginInfo`, :class:`CapabilityInfo`, :class:`GraphQLContribution`, :class:`NodeInfo`,
  :class:`Role`, ``MemberInfo`` ...), :func:`hooks_for`, :func:`notify`, :func:`tenant_settings`;
- tenancy: :class:`TenantContext`, :func:`tenant_scope`, :func:`get_tenant`, :func:`list_tenants`,
  :func:`capability_enabled`, the ``TenantTable``/``OrgUnitTable`` tables to reference in foreign keys;
- errors: :class:`DomainError`, :class:`DomainErrors`, :class:`ErrorCode`, :func:`not_found`, :func:`forbidden`;
- permissions: :class:`Principal`, :func:`roles_for`, :func:`perm` (descriptions), ``Context.require``;
- subtree guard: :func:`in_subtree`, :func:`require_in_subtree` (one object: check the TARGET's org
  unit path, from :func:`get_unit`), :func:`scope_clause` (lists: a SQL condition for :func:`raw`),
  :func:`require_root` (province-wide operations).
  A grant for an action covers its unit and everything below it; a capability whose rows belong to
  an org unit checks every id it is given against the unit of the thing it names, and filters
  every list, exactly as core does. Refusals: outside what the caller may read is NOT_FOUND,
  readable but not actionable is FORBIDDEN;
- audit: :class:`Actor`, :data:`SYSTEM`, :func:`audit_record`;
- database: :func:`transaction`, :func:`raw`, :func:`on_postgres` (for a bulk statement only PostgreSQL
  takes), :func:`on_citus` and :func:`insert_rows` (a bulk insert as multi-row VALUES, the shape a Citus
  cluster takes under row-level security), :func:`copy_records` (PostgreSQL: COPY a batch into a staging table in the transaction), :func:`as_utc` (a timestamp as read back, aware, on either engine), :func:`utcnow`, :func:`tenant_tables` (the RLS fence for a plugin's tenant-owned tables, in its
  fence migration);
- jobs: :func:`job`, :func:`enqueue`, :class:`JobContext`, :class:`JobFailed`, :func:`get_job`;
- ledger: :func:`ledger_reserve`, :func:`ledger_post_reservation` (and :func:`ledger_post_reservation_many`
  for a batch of keyed payments in one transaction), :func:`ledger_void_reservation`,
  :func:`ledger_post` (a balanced :class:`EntrySpec` of :class:`Line`s), :func:`ledger_post_many` (up to
  5000 of them in one set-based transaction, each with the single posting's checks), :func:`ledger_reverse`;
  :func:`ledger_account_ids` (the accounts for those lines), :func:`ledger_mutual_aid_fund` (a plan's
  fund); :func:`ledger_fund_by_level` (a fund's balance, reserved and spent money by union level);
- members: :func:`get_member`, :func:`members_by_ids`, :func:`member_info_of`, :func:`tag_vocabulary`
  (the tenant's member tags with their Chinese labels, core's and every plugin's), households
  (:func:`get_household`, :func:`household_people`), :func:`find_members_by_id_number` (member ids by
  ID number as given, through the blind index, invalid numbers left out; :func:`id_number_digests` gives the
  digests instead, to match a large file in SQL; to report bad rows, check a
  number first with :func:`normalize_id_number`, which raises :class:`IdNumberError`), and the members' encryption for a capability's
  own sensitive fields: :func:`pii_encrypt` / :func:`pii_decrypt` ``(value, table, field, tenant_id)`` (and
  :func:`pii_encrypt_many` for a bulk write)
  (AES-GCM bound to table, field and tenant), :func:`mask_id_number`, :func:`mask_name`;
- the worker portal: :func:`require_worker` (``await require_worker(info)`` at the top of a worker-facing
  field: the logged-in worker as a :class:`WorkerSelf`; ``.require_own_member(member_id)`` makes another
  worker's object read as NOT_FOUND; :func:`worker_of` ``(tenant, principal)`` outside GraphQL, e.g. in
  an HTTP route, and :func:`worker_member_id` ``(tenant, principal)``, the caller's own member id or
  ``None``);
- files: :mod:`core.files` re-exported as :data:`files` (encrypted per-tenant attachment store);
  ``http_error``, ``content_disposition`` and ``private_attachment`` (a stored personal file streamed
  as an uncached, unsniffed attachment) for a plugin's own file-download routes; and
  :class:`XlsxStreamWriter` (streams one worksheet into any binary stream, e.g. a store's ``writer``);
  :func:`xlsx_read_rows` ``(zipfile, max_row_chars)``, the streaming XLSX reader (rows of the first visible
  worksheet, flat memory; raises :class:`BadXlsx`); :func:`xlsx_rows` (the rows of a small uploaded
  workbook, e.g. a filled-in template);
- GraphQL: :class:`Node`, :class:`Connection`, :func:`connection`, :func:`page_args`,
  :class:`UserError`, :class:`ApiError`, :func:`api_error`, :func:`run_mutation`, :func:`for_query`,
  :func:`to_global_id`, :func:`from_global_id`, :data:`BigInt`, :data:`Info`;
- limits and personal data: :func:`rate_limit` (fixed window, Redis-backed when configured),
  :func:`pii_encrypt`/:func:`pii_decrypt`, :func:`phone_digest` (purpose ``PHONE_DIGEST_PURPOSE``),
  :func:`mask_phone`; every encrypted or indexed column is declared with :class:`EncryptedColumn` /
  :class:`IndexedColumn` in ``register_encrypted_columns`` so key rotation reaches it (a file area
  of ``files.store(area)`` is declared in ``register_file_stores``, which key rotation, backups and
  province exports walk);
- settings: :func:`get_settings` (process settings), :func:`tenant_settings` (a tenant's plugin or
  capability settings as the plugin's msgspec Struct);
- workflow: :class:`Machine`, :class:`Transition`, :class:`Timer` (declare a case workflow, list it in
  ``CapabilityInfo(workflows=...)``), :class:`StepContext` (what guards and effects get),
  :class:`CaseState`, :class:`WorkflowStepInfo`, :func:`workflow_open`, :func:`workflow_open_many`
  (a batch a job makes), :func:`workflow_step`,
  :func:`workflow_current`, :func:`workflow_current_many`, :func:`workflow_timeline`,
  :func:`workflow_timeline_many`,
  :func:`workflow_allowed`, :func:`workflow_run_timers`.

Heavy modules (ledger, members, GraphQL) are imported on first use, so importing the SDK from a
plugin module stays cheap and cannot create an import cycle with core's start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.context import TenantContext, tenant_scope
from core.errors import DomainError, DomainErrors, ErrorCode, forbidden, not_found
from core.hookspecs import CONTRACT as CORE_CONTRACT
from core.hookspecs import hookimpl, hookspec, renamed_arg
from core.interface import (
    BASIS_POINTS,
    FEN_PER_YUAN,
    BasisPoints,
    CapabilityInfo,
    ContractVersion,
    DibaoTable,
    EncryptedColumn,
    EntryInfo,
    Fen,
    FieldProblem,
    GraphQLContribution,
    IndexedColumn,
    LevyInfo,
    LevySplit,
    MemberInfo,
    NodeInfo,
    PluginInfo,
    PostingInfo,
    ProblemCode,
    RegionCode,
    RenamedArg,
    Role,
    SmallPayerInfo,
    TagInfo,
    YearKey,
)
from core.plugins import hooks_for, notify, tenant_settings

if TYPE_CHECKING:
    from core.actor import Actor
    from core.funds.posting import EntrySpec, Line
    from core.graphql.base import ApiError, Connection, Info, Node, UserError
    from core.jobs.runner import JobContext, JobFailed
    from core.permissions import Principal

__all__ = [
    # plugin contract
    "BASIS_POINTS",
    "FEN_PER_YUAN",
    "BasisPoints",
    "CapabilityInfo",
    "ContractVersion",
    "CORE_CONTRACT",
    "DibaoTable",
    "EncryptedColumn",
    "EntryInfo",
    "Fen",
    "FieldProblem",
    "GraphQLContribution",
    "IndexedColumn",
    "LevyInfo",
    "LevySplit",
    "MemberInfo",
    "NodeInfo",
    "PluginInfo",
    "PostingInfo",
    "ProblemCode",
    "RegionCode",
    "RenamedArg",
    "Role",
    "SmallPayerInfo",
    "TagInfo",
    "YearKey",
    "capability_enabled",
    "hookimpl",
    "hookspec",
    "hooks_for",
    "renamed_arg",
    "notify",
    "tenant_settings",
    "region_fallbacks",
    "lookup_region_year",
    "split_levy",
    # tenancy
    "TenantContext",
    "tenant_scope",
    "get_tenant",
    "list_tenants",
    "TenantTable",
    "OrgUnitTable",
    "get_unit",
    # errors
    "DomainError",
    "DomainErrors",
    "ErrorCode",
    "forbidden",
    "not_found",
    # permissions
    "Principal",
    "roles_for",
    "perm",
    # subtree guard
    "in_subtree",
    "require_in_subtree",
    "require_root",
    "scope_clause",
    # audit
    "Actor",
    "SYSTEM",
    "audit_record",
    # database
    "transaction",
    "raw",
    "on_postgres",
    "on_citus",
    "insert_rows",
    "copy_records",
    "as_utc",
    "utcnow",
    "tenant_tables",
    # jobs
    "job",
    "enqueue",
    "get_job",
    "JobContext",
    "JobFailed",
    # ledger
    "EntrySpec",
    "Line",
    "ledger_post",
    "ledger_post_many",
    "ledger_reserve",
    "ledger_post_reservation",
    "ledger_post_reservation_many",
    "ledger_void_reservation",
    "ledger_reverse",
    "ledger_fund_by_level",
    "ledger_account_ids",
    "ledger_mutual_aid_fund",
    # members
    "get_member",
    "find_members_by_id_number",
    "id_number_digests",
    "require_worker",
    "add_working_days",
    "is_working_day",
    "worker_of",
    "worker_member_id",
    "WorkerSelf",
    "members_by_ids",
    "tag_vocabulary",
    "member_info_of",
    "get_household",
    "household_people",
    "normalize_id_number",
    "IdNumberError",
    "pii_encrypt",
    "pii_encrypt_many",
    "pii_decrypt",
    "mask_id_number",
    "mask_name",
    # files
    "files",
    "http_error",
    "private_attachment",
    "content_disposition",
    "XlsxStreamWriter",
    "xlsx_read_rows",
    "BadXlsx",
    "xlsx_rows",
    # GraphQL
    "ApiError",
    "BigInt",
    "Connection",
    "Info",
    "Node",
    "UserError",
    "api_error",
    "connection",
    "for_query",
    "from_global_id",
    "page_args",
    "run_mutation",
    "to_global_id",
    # settings
    "get_settings",
    # workflow
    "Machine",
    "Transition",
    "Timer",
    "MachineError",
    "StepContext",
    "CaseState",
    "WorkflowStepInfo",
    "workflow_open",
    "workflow_open_many",
    "workflow_step",
    "workflow_current",
    "workflow_current_many",
    "workflow_timeline",
    "workflow_timeline_many",
    "workflow_allowed",
    "workflow_run_timers",
    # pii helpers safe for rules
    "normalize_phone",
    "mask_phone",
    "phone_digest",
    "PHONE_DIGEST_PURPOSE",
    "rate_limit",
    "phone_kind",
    "PhoneError",
]


def capability_enabled(tenant: TenantContext, code: str) -> bool:
    """Whether ``tenant`` enables capability ``code`` (the host already gates GraphQL and hooks)."""
    return code in tenant.capabilities


# Lazily resolved names: attribute -> (module, name). Resolved on first access and cached in globals.
_LAZY: dict[str, tuple[str, str | None]] = {  # attribute None: the module itself
    "get_tenant": ("core.tenancy.queries", "get_tenant"),
    "list_tenants": ("core.tenancy.queries", "list_tenants"),
    "get_unit": ("core.tenancy.queries", "get_unit"),
    "TenantTable": ("core.tenancy.tables", "Tenant"),
    "OrgUnitTable": ("core.tenancy.tables", "OrgUnit"),
    "Principal": ("core.permissions", "Principal"),
    "roles_for": ("core.permissions", "roles_for"),
    "in_subtree": ("core.scope", "in_subtree"),
    "require_in_subtree": ("core.scope", "require_in_subtree"),
    "require_root": ("core.scope", "require_root"),
    "scope_clause": ("core.scope", "scope_clause"),
    "Actor": ("core.actor", "Actor"),
    "SYSTEM": ("core.actor", "SYSTEM"),
    "audit_record": ("core.audit.services", "record"),
    "transaction": ("core.dbutil", "transaction"),
    "raw": ("core.dbutil", "raw"),
    "on_postgres": ("core.dbutil", "on_postgres"),
    "on_citus": ("core.dbutil", "on_citus"),
    "insert_rows": ("core.dbutil", "insert_rows"),
    "copy_records": ("core.dbutil", "copy_records"),
    "as_utc": ("core.dbutil", "as_utc"),
    "utcnow": ("core.dbutil", "utcnow"),
    "tenant_tables": ("core.migration_sql", "tenant_tables"),
    "job": ("core.jobs.runner", "job"),
    "enqueue": ("core.jobs.runner", "enqueue"),
    "get_job": ("core.jobs.runner", "get_job"),
    "JobContext": ("core.jobs.runner", "JobContext"),
    "JobFailed": ("core.jobs.runner", "JobFailed"),
    "EntrySpec": ("core.funds.posting", "EntrySpec"),
    "Line": ("core.funds.posting", "Line"),
    "ledger_post": ("core.funds.posting", "post"),
    "ledger_post_many": ("core.funds.bulk", "post_many"),
    "ledger_reserve": ("core.funds.services", "reserve"),
    "ledger_post_reservation": ("core.funds.services", "post_reservation"),
    "ledger_post_reservation_many": ("core.funds.services", "post_reservation_many"),
    "ledger_void_reservation": ("core.funds.services", "void_reservation"),
    "ledger_reverse": ("core.funds.services", "reverse_entry"),
    "ledger_fund_by_level": ("core.funds.queries", "fund_by_level"),
    # (unit id, fund code, account code) -> account ids for ledger_post's lines; and a plan's fund
    "ledger_account_ids": ("core.funds.services", "account_ids"),
    "ledger_mutual_aid_fund": ("core.funds.services", "ensure_mutual_aid_fund"),
    "get_member": ("core.members.queries", "get_member"),
    "find_members_by_id_number": ("core.members.queries", "find_members_by_id_number"),
    "id_number_digests": ("core.members.queries", "id_number_digests"),
    "require_worker": ("core.workers.access", "require_worker"),
    "add_working_days": ("core.workdays", "add_working_days"),
    "is_working_day": ("core.workdays", "is_working_day"),
    "worker_of": ("core.workers.access", "worker_of"),
    "worker_member_id": ("core.workers.access", "own_member_id"),
    "WorkerSelf": ("core.workers.access", "WorkerSelf"),
    "members_by_ids": ("core.members.queries", "members_by_ids"),
    "tag_vocabulary": ("core.members.vocab", "tag_vocabulary"),
    "member_info_of": ("core.members.services", "member_info_of"),
    "get_household": ("core.members.queries", "get_household"),
    "household_people": ("core.members.queries", "household_people"),
    "normalize_id_number": ("core.pii.idcard", "normalize_id_number"),
    "IdNumberError": ("core.pii.idcard", "IdNumberError"),
    "pii_encrypt": ("core.members.personal", "encrypt"),
    "pii_encrypt_many": ("core.members.personal", "encrypt_many"),
    "pii_decrypt": ("core.members.personal", "decrypt"),
    "mask_id_number": ("core.pii.masking", "mask_id_number"),
    "mask_name": ("core.pii.masking", "mask_name"),
    "files": ("core.files", None),
    "http_error": ("core.downloads", "http_error"),
    "private_attachment": ("core.downloads", "private_attachment"),
    "content_disposition": ("core.downloads", "content_disposition"),
    "XlsxStreamWriter": ("core.xlsx.writer", "XlsxStreamWriter"),
    "xlsx_read_rows": ("core.xlsx.reader", "rows"),
    "BadXlsx": ("core.xlsx.parts", "BadXlsx"),
    "xlsx_rows": ("core.xlsx.reader", "rows_of"),
    "ApiError": ("core.graphql.base", "ApiError"),
    "BigInt": ("core.graphql.base", "BigInt"),
    "Connection": ("core.graphql.base", "Connection"),
    "Info": ("core.graphql.base", "Info"),
    "Node": ("core.graphql.base", "Node"),
    "UserError": ("core.graphql.base", "UserError"),
    "api_error": ("core.graphql.base", "api_error"),
    "connection": ("core.graphql.base", "connection"),
    "for_query": ("core.graphql.base", "for_query"),
    "from_global_id": ("core.graphql.base", "from_global_id"),
    "page_args": ("core.graphql.base", "page_args"),
    "perm": ("core.graphql.base", "perm"),
    "run_mutation": ("core.graphql.base", "run_mutation"),
    "to_global_id": ("core.graphql.base", "to_global_id"),
    "get_settings": ("core.settings", "get_settings"),
    "Machine": ("core.workflow.machine", "Machine"),
    "Transition": ("core.workflow.machine", "Transition"),
    "Timer": ("core.workflow.machine", "Timer"),
    "MachineError": ("core.workflow.machine", "MachineError"),
    "StepContext": ("core.workflow.services", "StepContext"),
    "CaseState": ("core.workflow.services", "CaseState"),
    "WorkflowStepInfo": ("core.workflow.services", "Step"),
    "workflow_open": ("core.workflow.services", "open_case"),
    "workflow_open_many": ("core.workflow.services", "open_many"),
    "workflow_step": ("core.workflow.services", "step"),
    "workflow_current": ("core.workflow.services", "current"),
    "workflow_current_many": ("core.workflow.services", "current_many"),
    "workflow_timeline": ("core.workflow.services", "timeline"),
    "workflow_timeline_many": ("core.workflow.services", "timeline_many"),
    "workflow_allowed": ("core.workflow.services", "allowed_transitions"),
    "workflow_run_timers": ("core.workflow.services", "run_due_timers"),
    "region_fallbacks": ("core.builtin_hooks", "region_fallbacks"),
    "lookup_region_year": ("core.builtin_hooks", "lookup_region_year"),
    "split_levy": ("core.builtin_hooks", "split_levy"),
    "normalize_phone": ("core.pii.phone", "normalize_phone"),
    "mask_phone": ("core.pii.masking", "mask_phone"),
    # Personal data a capability keeps itself (a station visitor's phone): encrypted under the
    # members' keyring with a context naming the table, column and tenant; the digest is the
    # members' phone blind index under the active key, so it matches a member's phone_bidx.
    "phone_digest": ("core.members.personal", "phone_bidx"),
    "PHONE_DIGEST_PURPOSE": ("core.members.personal", "PHONE_PURPOSE"),
    "rate_limit": ("core.accounts.throttle", "rate_limit"),
    "phone_kind": ("core.pii.phone", "phone_kind"),
    "PhoneError": ("core.pii.phone", "PhoneError"),
}


def __getattr__(name: str) -> Any:
    import importlib

    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'core.sdk' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
