"""Frozen dataclasses handed to plugins.

Hooks never receive Piccolo rows, requests or sessions: core copies what a plugin may see into these
small immutable objects (saleor's ``interface.py``). That keeps plugins pure and testable without a
database, and lets core change its tables without breaking the plugin contract.

Conventions:

- Money is always an ``int`` in fen (分). Never floats, never ``Decimal`` yuan: the ledger is integer
  fen, and every rounding decision is made explicitly by whoever splits an amount.
- Ratios are integer basis points (1 bp = 0.01 %, 10000 bp = 100 %), for the same reason.
- Region codes are the 6-digit 民政 / GB/T 2260 area codes ("310101" = 上海市黄浦区).
- Everything here is part of the published plugin API: adding an optional field with a default is
  safe; renaming or removing a field is a breaking change for plugins (bump ``min_core``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol, runtime_checkable

import msgspec

if TYPE_CHECKING:
    from core.context import TenantContext

__all__ = [
    "BASIS_POINTS",
    "CapabilityInfo",
    "EncryptedColumn",
    "ContractVersion",
    "GraphQLContribution",
    "IndexedColumn",
    "NodeInfo",
    "Role",
    "BasisPoints",
    "DibaoTable",
    "Fen",
    "RegionCode",
    "YearKey",
    "FEN_PER_YUAN",
    "EntryInfo",
    "FieldProblem",
    "LevyInfo",
    "LevySplit",
    "MemberInfo",
    "PluginInfo",
    "PostingInfo",
    "ProblemCode",
    "RenamedArg",
    "SmallPayerInfo",
    "SmsGateway",
    "TagInfo",
]

FEN_PER_YUAN = 100
BASIS_POINTS = 10_000  # 100 % expressed in basis points

# Building blocks for plugin settings schemas (msgspec constraints are checked when a tenant manifest
# is validated, so a typo'd region code fails at start-up rather than as a silent lookup miss).
Fen = Annotated[int, msgspec.Meta(ge=0, description="amount in fen (分)")]
BasisPoints = Annotated[int, msgspec.Meta(ge=0, le=BASIS_POINTS, description="ratio in basis points")]
RegionCode = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$", description="6-digit 民政 area code")]
# TOML and JSON keys are always strings, so years are keyed as "2024" rather than 2024.
YearKey = Annotated[str, msgspec.Meta(pattern=r"^(19|20|21)\d{2}$", description="calendar year")]
# region code -> year -> monthly 低保 line in fen per person
DibaoTable = dict[RegionCode, dict[YearKey, Annotated[int, msgspec.Meta(gt=0)]]]


# -------------------------------------------------------------------------
# Plugins
# -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """What a plugin declares about itself; each plugin module exposes ``PLUGIN = PluginInfo(...)``.

    ``min_core`` is inclusive. ``max_core`` is inclusive *at the precision written*: ``"0.1"`` accepts
    every 0.1.x core, ``"1"`` every 1.x core; ``None`` means no upper bound (netbox's
    ``min_version``/``max_version``).
    """

    # The entry-point name; a tenant manifest lists it in `plugins` and configures it under [settings.<name>].
    name: str
    province_code: str | None  # GB/T 2260 two-digit province code ("31"); None for non-province plugins
    version: str
    min_core: str
    max_core: str | None = None
    # msgspec Struct describing the plugin's settings, with defaults; None = the plugin takes none
    settings_schema: type[msgspec.Struct] | None = None
    # Capabilities a province plugin serves (implements hooks of): a tenant manifest that enables this
    # plugin must enable each of them too, or start-up refuses the manifest.
    capabilities: tuple[str, ...] = ()
    # The hook contracts this plugin was written against, by contract name: {"huijia.core": "0.2"} and,
    # for a province plugin serving a capability, {"testcap": "1.0"}. Checked at start-up against each
    # hookspec module's CONTRACT: the major must match and the minor must not be newer than the spec's.
    contracts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContractVersion:
    """The version of one hook contract: core's (``core.hookspecs.CONTRACT``) or a capability's.

    Every hookspec module declares ``CONTRACT = ContractVersion("<name>", "<major>.<minor>")``. Adding
    a hook or an optional argument bumps the minor (old plugins keep loading); removing a hook or
    changing what an answer means bumps the major (every plugin must be updated and re-declare). A
    renamed argument is a minor change when the spec declares it with :func:`core.hookspecs.renamed_arg`.
    """

    name: str
    version: str

    def __post_init__(self) -> None:
        parse_contract_version(self.version)  # refuse "1", "v1.0" or "1.0.0" where the spec is written

    @property
    def major(self) -> int:
        return parse_contract_version(self.version)[0]

    @property
    def minor(self) -> int:
        return parse_contract_version(self.version)[1]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def parse_contract_version(text: str) -> tuple[int, int]:
    """``"1.2"`` -> ``(1, 2)``; anything but two dot-separated non-negative integers raises ``ValueError``."""
    parts = str(text).strip().split(".")
    if len(parts) != 2 or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError(f"contract version {text!r} must be MAJOR.MINOR, e.g. \"1.0\"")
    return int(parts[0]), int(parts[1])


@dataclass(frozen=True, slots=True)
class RenamedArg:
    """A hook argument renamed in a contract: implementations using ``old`` still load, get the value
    and a ``DeprecationWarning``; declared on the spec with :func:`core.hookspecs.renamed_arg`."""

    old: str
    new: str
    since: str  # the contract version that renamed it


# -------------------------------------------------------------------------
# The capability host: what register_* hooks return
# -------------------------------------------------------------------------


class Role(enum.Enum):
    """A role granted at an org unit (covering its subtree). ``register_permissions`` maps actions to these."""

    PLATFORM_ADMIN = "platform_admin"
    TENANT_ADMIN = "tenant_admin"
    APPROVER = "approver"
    CLERK = "clerk"
    FINANCE = "finance"
    AUDITOR = "auditor"
    SOCIAL_ORG = "social_org"
    WORKER = "worker"


@dataclass(frozen=True, slots=True)
class CapabilityInfo:
    """A capability a tenant can enable in its manifest (``capabilities = ["hardship"]``).

    ``code`` is stable ASCII (it is stored on the tenant and keys ``[settings.<code>]``); ``label_zh``
    is the menu label the UI shows. Province plugins that serve the capability name ``code`` in their
    ``PluginInfo.capabilities``.
    """

    code: str
    label_zh: str
    # msgspec Struct for the tenant's [settings.<code>] table, with defaults; None = no settings
    settings_schema: type[msgspec.Struct] | None = None
    description: str = ""
    # The capability's case workflows (``core.sdk.Machine``, each with ``capability`` = ``code``):
    # the host runs their timers for the tenants that enable the capability.
    workflows: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A Relay Node type a plugin adds, and how ``node(id)`` finds one.

    ``resolve(info, pk)`` must apply the tenant filter and permission itself (return ``None`` when the
    row is not visible). ``table`` is the tenant-owned table behind the type: the isolation tests walk
    it with another tenant's ids, so give it for every Node backed by a table.
    """

    type_name: str
    resolve: Callable[[Any, int], Awaitable[Any]]
    table: str | None = None


@dataclass(frozen=True, slots=True)
class GraphQLContribution:
    """What ``register_graphql`` returns: strawberry classes merged into the one schema.

    ``query``/``mutation`` are ``@strawberry.type`` classes whose fields become Query/Mutation fields;
    ``types`` are extra types to include (Node implementations not reachable from a field);
    ``nodes`` feed ``node(id)``. ``capability`` gates every field and node: for a tenant that has not
    enabled it they refuse with ``CAPABILITY_NOT_ENABLED``. It defaults to the plugin's only
    capability; core's own domains leave it ``None`` (always on).
    """

    query: Sequence[type] = ()
    mutation: Sequence[type] = ()
    types: Sequence[type] = ()
    nodes: Sequence[NodeInfo] = ()
    capability: str | None = None


PermissionTable = Mapping[str, "frozenset[Role] | Sequence[Role | str]"]


# -------------------------------------------------------------------------
# Members
# -------------------------------------------------------------------------


class ProblemCode(enum.StrEnum):
    """Machine-readable reason for a :class:`FieldProblem`; GraphQL exposes it as an enum."""

    REQUIRED = "required"  # the field is empty but a rule needs it
    INVALID = "invalid"  # malformed (wrong length, pattern, impossible date)
    CHECKSUM = "checksum"  # well-formed but its check digit is wrong (ID numbers)
    NOT_ALLOWED = "not_allowed"  # well-formed but a local rule forbids the value


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One validation problem, shown next to ``field`` in the UI.

    ``message_zh`` is user-facing and must be Chinese; ``code`` is for programs.
    """

    field: str  # MemberInfo field name, e.g. "phone"
    code: ProblemCode
    message_zh: str

    def __post_init__(self) -> None:
        # Plugins may pass a plain string; coerce so an unknown code fails here, in the plugin's test,
        # rather than later as a GraphQL enum serialisation error.
        object.__setattr__(self, "code", ProblemCode(self.code))


@dataclass(frozen=True, slots=True)
class TagInfo:
    """A member tag a plugin contributes (e.g. 京卡持卡人). ``code`` is stable ASCII; labels are Chinese."""

    code: str
    label_zh: str
    description_zh: str = ""


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """A union member as plugins see it.

    Contains personal data (ID number, phone): implementations must not log it, and ``on_*`` hooks
    should enqueue jobs with ``member.id`` rather than copying these values elsewhere.
    """

    id: int | None  # None while validating a member that is not saved yet
    org_unit_id: int
    name: str
    region_code: str | None = None  # 民政 area code of the member's org unit
    id_number: str | None = None  # 18-character GB 11643 居民身份证号码
    phone: str | None = None
    birth_date: dt.date | None = None
    work_status: str | None = None  # 在岗, 下岗, 失业, 退休, 病休, 内退, 农民工
    tags: tuple[str, ...] = ()  # TagInfo codes
    joined_on: dt.date | None = None


# -------------------------------------------------------------------------
# Funds
# -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevyInfo:
    """A grassroots union's payroll levy (拨缴经费) for one period, before it is split between levels.

    ``levy_fen`` is the amount actually collected (normally 2 % of ``payroll_fen``); the split hook
    divides exactly this amount.
    """

    org_unit_id: int
    period_start: dt.date
    period_end: dt.date
    payroll_fen: int
    levy_fen: int
    region_code: str | None = None  # 民政 area code of the union, else of its nearest ancestor with one

    def __post_init__(self) -> None:
        if self.levy_fen < 0 or self.payroll_fen < 0:
            raise ValueError("levy and payroll amounts must be non-negative fen")
        if self.period_end < self.period_start:
            raise ValueError("levy period ends before it starts")


@dataclass(frozen=True, slots=True)
class LevySplit:
    """How one levy divides: kept by the grassroots union vs. sent upward (上解).

    Both parts are whole fen and must sum to ``LevyInfo.levy_fen`` exactly; core rejects a split that
    does not (see :meth:`check_covers`). ``rule`` is a short label stored in the audit log.
    """

    grassroots_fen: int
    upward_fen: int
    rule: str = ""

    def __post_init__(self) -> None:
        if self.grassroots_fen < 0 or self.upward_fen < 0:
            raise ValueError("levy split parts must be non-negative fen")

    @property
    def total_fen(self) -> int:
        return self.grassroots_fen + self.upward_fen

    def check_covers(self, levy: LevyInfo) -> None:
        """Raise ``ValueError`` unless the parts add up to the levy to the fen."""
        if self.total_fen != levy.levy_fen:
            raise ValueError(
                f"levy split {self.grassroots_fen}+{self.upward_fen} fen does not equal"
                f" levy {levy.levy_fen} fen (rule {self.rule!r})"
            )


@dataclass(frozen=True, slots=True)
class SmallPayerInfo:
    """A grassroots union's facts for the small-payer full refund (小额缴费工会全额返还).

    The policy year runs 10-01 to 09-30: ``policy_year=2024`` is 2024-10-01 .. 2025-09-30.
    """

    org_unit_id: int
    policy_year: int
    upward_paid_fen: int  # what the union sent upward over the policy year
    is_soe: bool = False  # 国有企业
    is_budget_funded: bool = False  # 财政拨款单位 (机关, 参公/财政供养事业单位)
    claims_micro_refund: bool = False  # takes the ≤25-staff micro-firm refund instead
    staff_count: int | None = None

    @property
    def period_start(self) -> dt.date:
        return dt.date(self.policy_year, 10, 1)

    @property
    def period_end(self) -> dt.date:
        return dt.date(self.policy_year + 1, 9, 30)


@dataclass(frozen=True, slots=True)
class PostingInfo:
    """One line of a ledger entry. Debits are positive, credits negative."""

    account_id: int
    account_code: str  # 工会会计制度 code, e.g. "402" 拨缴经费收入
    org_unit_id: int
    fund: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class EntryInfo:
    """A posted (immutable, balanced) ledger entry."""

    id: int
    key: str  # the entry's idempotency key, unique per tenant
    posted_at: dt.datetime
    memo: str
    postings: tuple[PostingInfo, ...] = field(default_factory=tuple)
    reverses_entry_id: int | None = None

    def __post_init__(self) -> None:
        # A posted entry is balanced by construction; checking here means a plugin can rely on it.
        if sum(p.amount_fen for p in self.postings) != 0:
            raise ValueError(f"ledger entry {self.key!r} is not balanced")


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    """A column holding PII tokens encrypted with the platform keyring (``pii_encrypt``), so that
    ``huijia keys rotate`` re-encrypts it. ``context`` is ``"<table>.<field>"`` built from exactly the
    ``table`` and ``field`` arguments the writer passes to ``pii_encrypt`` (the tenant id is appended
    by the keyring); it need not name the column's own table. Empty strings and NULLs are skipped."""

    table: str
    column: str
    context: str


@dataclass(frozen=True, slots=True)
class IndexedColumn:
    """A blind-index column (``phone_digest``) and the encrypted column it is recomputed from, so
    that ``huijia keys rotate-index`` moves it to a new index key. ``purpose`` is the blind index's
    purpose (``"person.phone"`` for ``phone_digest``); ``unique``: whether a value may appear only
    once per tenant (a recomputed value another row holds is then reported as a conflict). The
    encrypted column is rotated by ``huijia keys rotate`` too, with no separate
    :class:`EncryptedColumn` needed."""

    table: str
    column: str
    index_column: str
    context: str
    purpose: str
    unique: bool = False


@runtime_checkable
class SmsGateway(Protocol):
    """An SMS provider's adapter, offered by a plugin's ``register_sms_gateways``.

    Core never formats message text: it names a ``template`` (``"worker.phone_code"``, params
    ``code`` and ``minutes``), because Chinese SMS providers send only templates registered with them
    in advance; the adapter maps the name to its provider's template id. ``send`` returns the
    provider's message id and raises on failure (the caller reports it to the user and keeps nothing).
    It must never log the phone number or the params.
    """

    name: str

    async def send(self, *, tenant: TenantContext, phone: str, template: str, params: Mapping[str, str]) -> str: ...
