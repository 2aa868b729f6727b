"""THE plugin contract: every hook a Huijia plugin may implement.

Hooks come in three families, and the return style can be read off the name:

- ``register_*``: collecting. Every enabled plugin returns a list; the caller receives a list of lists
  and flattens it. Order is LIFO (province plugins before the built-in national defaults). Those
  without a ``tenant`` argument are the *capability host*: called once at start-up by
  ``core.registry``, which attributes each result to the plugin that returned it, namespaces it and
  refuses duplicates (core's own domains register through them too).
- ``<noun>_<question>``: ``firstresult=True``, synchronous and pure. The first non-``None`` answer
  wins, so returning ``None`` means "no opinion, ask the next plugin". Province plugins register
  after the built-in plugin and therefore answer first (pluggy calls implementations LIFO).
  Never write these as ``async def``: a coroutine is a non-``None`` value and would win every call.
  One question-shaped hook collects instead: ``member_validate``, because every plugin's problems
  count.
- ``on_<event>``: notifications, called after commit through ``core.plugins.notify``. These (and only
  these) may be ``async def``: ``notify`` awaits each implementation's coroutine, so a plugin can
  ``await enqueue(...)`` a job. Do the real work in that job, not inline.

Every hook is called with keyword arguments only, through ``core.plugins.hooks_for(tenant)``, which
hides the plugins the tenant has not enabled. An implementation may accept any subset of a spec's
arguments (pluggy's opt-in arguments), which is also how a spec gains parameters without breaking
existing plugins.

Values are frozen dataclasses from :mod:`core.interface`; amounts are integer fen, ratios integer
basis points. The reference for each hook, with examples, is ``docs/hooks.md``; a contract test fails
when a hook here is missing from it or has no ``test_hook_<name>`` test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse
    import types

    from core.context import TenantContext
    from core.interface import (
        CapabilityInfo,
        EncryptedColumn,
        EntryInfo,
        FieldProblem,
        GraphQLContribution,
        IndexedColumn,
        LevyInfo,
        LevySplit,
        MemberInfo,
        SmallPayerInfo,
        SmsGateway,
        TagInfo,
    )

from core.interface import ContractVersion, RenamedArg

__all__ = ["CONTRACT", "DEPRECATED_ATTR", "PROJECT_NAME", "RENAMED_ATTR", "deprecated_hook", "hookimpl", "hookspec",
           "renamed_arg"]

PROJECT_NAME = "huijia"

# The version of this contract. Bump the minor for a new hook or argument, the major for a removal or
# a change of meaning, and add the version to docs/hooks-changelog.md (a contract test checks it).
CONTRACT = ContractVersion("huijia.core", "0.4")

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

RENAMED_ATTR = f"{PROJECT_NAME}_renamed_args"
DEPRECATED_ATTR = f"{PROJECT_NAME}_deprecated_hook"


def renamed_arg(old: str, new: str, *, since: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare on a hook spec that argument ``old`` was renamed ``new`` in contract version ``since``.

    An implementation still using ``old`` loads, receives the value, and its plugin gets a
    ``DeprecationWarning`` at registration naming the plugin, the hook and the argument. Stack it
    under ``@hookspec``::

        @hookspec(firstresult=True)
        @renamed_arg("region", "region_code", since="0.3")
        def region_dibao_line(tenant, region_code, year): ...
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        found = tuple(getattr(fn, RENAMED_ATTR, ()))
        setattr(fn, RENAMED_ATTR, (*found, RenamedArg(old, new, since)))
        return fn

    return mark


def deprecated_hook(replacement: str, *, since: str, keep: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare on a hook spec that the hook moved to ``replacement`` in contract version ``since``.

    Implementations still load and are still called; each plugin implementing it (other than those
    in ``keep``) gets a ``DeprecationWarning`` (and a log line) at registration naming the plugin,
    the hook and its replacement. Stack it under ``@hookspec``.
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, DEPRECATED_ATTR, (replacement, since, keep))
        return fn

    return mark


# -------------------------------------------------------------------------
# Registration hooks: collect lists from every enabled plugin
# -------------------------------------------------------------------------


@hookspec
def register_member_tags(tenant: TenantContext) -> list[TagInfo]:
    """Return the member tags this plugin offers to ``tenant`` (e.g. 京卡持卡人, 新就业形态).

    The caller flattens the lists; a plugin cannot remove another plugin's tags. Tag codes must be
    unique within a tenant (prefix local ones with the plugin name if in doubt).

    :param tenant: The tenant whose tag vocabulary is being built.
    :return: A list of :class:`core.interface.TagInfo` (may be empty).

    .. versionadded:: 0.1
    """


@hookspec
def register_jobs() -> list[Callable[..., Any]]:
    """Return the job functions this plugin contributes to the worker.

    Called once at start-up (``core.registry``), not per tenant, so it takes no ``tenant``. Each job
    is an ``async def job(ctx, *ids)`` run by both the arq worker and the in-process runner: ``ctx`` is
    a ``JobContext`` whose ``ctx.tenant`` the runner has already loaded and scoped, and ``ids`` are
    ints or short strings (never personal data). A plugin's job is registered as
    ``"<plugin>.<name>"``, where name is its ``job_name`` attribute (set by ``@job("name")``), else
    its ``__name__``; a name already starting with ``"<plugin>."`` is not prefixed twice. Core's own
    domains keep their names. Start-up refuses two jobs with one name, naming both plugins. Jobs must
    be idempotent: a retry or duplicate delivery runs them again.

    :return: A list of job callables (may be empty).

    .. versionadded:: 0.1
    """


@hookspec
def register_hookspecs() -> list[types.ModuleType]:
    """Return modules of hook specs this plugin adds: a capability's own contract.

    A capability plugin (``hardship``) declares the questions it asks province plugins in its own
    hookspecs module (marked with ``core.hookspecs.hookspec``) and returns it here; the host adds it
    with ``pm.add_hookspecs`` and then validates every implementation, so a province plugin's typo'd
    or mis-typed implementation fails at start-up exactly as for core's hooks. Hooks declared here
    are *capability hooks*: ``hooks_for(tenant)`` calls their implementations only for tenants that
    enable the capability (and the province plugin).

    :return: A list of modules (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_piccolo_apps() -> list[str]:
    """Return the dotted paths of this plugin's piccolo app modules (each defines ``APP_CONFIG``).

    ``huijia migrate`` runs their migrations and ``piccolo_conf.APP_REGISTRY`` lists them. Every
    tenant-owned table needs ``tenant_id`` and a fence migration calling
    ``core.sdk.tenant_tables([...])``, which enables and forces row-level security exactly as for
    core's tables; the isolation tests find such tables in the catalog and check them.

    :return: A list of module paths, e.g. ``["huijia_hardship.piccolo_app"]`` (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_graphql() -> list[GraphQLContribution]:
    """Return the GraphQL this plugin adds: Query/Mutation field classes, types and Node resolvers.

    The host merges every contribution into the one schema (``core.graphql.schema``), refusing two
    plugins that define the same field or Node type. Fields and nodes of a capability plugin are
    gated by the host: for a tenant that has not enabled the capability a query refuses with a
    ``CAPABILITY_NOT_ENABLED`` error, a mutation returns it in its payload ``errors``, and
    ``node(id)`` returns null. Import the strawberry modules inside the implementation (their
    ``perm(...)`` descriptions need the permission table, which is built from the hooks).

    :return: A list of :class:`core.interface.GraphQLContribution` (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_permissions() -> dict[str, Any]:
    """Return the actions this plugin adds and the roles allowed each: ``{"hardship.read": [...]}``.

    Merged into the one permission table that ``Principal.can``, ``Context.require`` and ``perm(...)``
    read. Roles are :class:`core.interface.Role` members (or their string values). An action
    another plugin (or core) already defines stops start-up; an unknown action still raises when
    checked. Prefix actions with the plugin or capability name.

    :return: A mapping of action to roles (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_cron() -> list[Any]:
    """Return arq ``CronJob`` objects (``arq.cron(fn, name=..., ...)``) this plugin schedules.

    Run by ``huijia worker`` and, on the embedded default without Redis, by the in-process
    scheduler on the same schedule. A cron function takes arq's ``ctx`` dict and normally enqueues a
    per-tenant job with a deterministic key, so a cron that fires twice does the work once. Cron
    names must be unique across plugins.

    :return: A list of ``arq.cron.CronJob`` (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_cli() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Return functions that add subcommands to the ``huijia`` command line.

    Each function receives the top-level subparsers object and adds its commands
    (``sub.add_parser("hardship", ...)``), setting ``fn=`` to the handler as core's commands do. A
    command name another plugin already took stops start-up.

    :return: A list of callables taking the subparsers object (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_capabilities() -> list[CapabilityInfo]:
    """Return the capabilities this plugin provides, which a tenant enables in its manifest.

    A capability is a code, a Chinese menu label and an optional settings schema. A plugin that
    returns any is a *capability plugin*: it is installed platform-wide (not listed in a manifest's
    ``plugins``), and its GraphQL, nodes and hooks act only for tenants whose manifest lists the code
    under ``capabilities``. An unknown capability in a manifest, or two plugins providing one code,
    stops start-up.

    :return: A list of :class:`core.interface.CapabilityInfo` (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_startup_checks() -> list[Callable[[], Any]]:
    """Return async functions run at start-up by the web app and the worker (after plugins load).

    A check raises to refuse start-up (e.g. members' ``check_index_keys``: the blind-index keys the
    stored rows need must be configured). Keep them fast and read-only.

    :return: A list of ``async def check() -> None`` callables (may be empty).

    .. versionadded:: 0.2
    """


# -------------------------------------------------------------------------
# Hardship (困难职工): questions with one answer
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
@deprecated_hook("hardship_dibao_line (the hardship capability's contract 1.1)", since="0.4", keep=("builtin",))
def region_dibao_line(tenant: TenantContext, region_code: str, year: int) -> int | None:
    """Return the monthly urban 低保 (minimum living guarantee) line, in fen per person, for a region.

    **Deprecated since 0.4**: the line is the hardship capability's business; implement
    ``hardship_dibao_line`` (same arguments and answer) from its contract 1.1 instead. The
    capability still asks this hook (after every ``hardship_dibao_line`` answer declined), so an
    implementation keeps working; it gets a ``DeprecationWarning`` at start-up. Core's built-in
    plugin keeps answering here from ``[settings.builtin] dibao``.

    The line drives hardship classification: 深度困难 when per-capita monthly income is below it,
    相对困难 below a multiple of it, and aid caps expressed as "months of 低保". An implementation
    may fall back from a county code to its city (``xxxx00``) and province (``xx0000``), and from
    ``year`` to the nearest earlier year it knows. Return ``None`` when it has no figure, so the next
    plugin (finally the built-in national plugin, which reads the tenant's ``builtin.dibao`` setting)
    can answer; core treats a final ``None`` as "not configured" and refuses to classify.

    Stops at first non-None result.

    :param tenant: The tenant asking; its settings hold the line tables.
    :param region_code: 6-digit 民政 / GB/T 2260 area code, validated by core (e.g. ``"350102"``).
    :param year: Calendar year the line applies to.
    :return: Fen per person per month (``151000`` = 1510 元), or ``None`` to defer.

    .. versionadded:: 0.1
    """


# -------------------------------------------------------------------------
# Members
# -------------------------------------------------------------------------


@hookspec
def member_validate(tenant: TenantContext, member: MemberInfo) -> list[FieldProblem]:
    """Return the problems this plugin finds with a member record about to be saved.

    Collecting: every enabled plugin's problems are shown together, so a province adds rules on top
    of the national ones (the built-in plugin checks the GB 11643 ID-number check digit). An empty
    list means "no objection". Must be pure and fast: it runs on every save and on every row of a
    roster import.

    :param tenant: The member's tenant.
    :param member: The member as it would be saved (``member.id`` is ``None`` for a new member).
    :return: A list of :class:`core.interface.FieldProblem` with Chinese ``message_zh``.

    .. versionadded:: 0.1
    """


# -------------------------------------------------------------------------
# Funds (工会经费): questions with one answer
# -------------------------------------------------------------------------


@hookspec(firstresult=True)
def fund_levy_split(tenant: TenantContext, levy: LevyInfo) -> LevySplit | None:
    """Return how a grassroots union's payroll levy (拨缴经费) splits between it and the levels above.

    The national rule (built-in plugin) keeps 60 % at the grassroots union and sends 40 % upward,
    "unless otherwise provided". Parts are whole fen and must add up to ``levy.levy_fen`` exactly;
    the implementation decides who receives the sub-fen remainder and says so in ``LevySplit.rule``.
    The built-in plugin gives the remainder to the grassroots union (funds lean towards the base,
    向基层倾斜). Core raises if the parts do not sum to the levy.

    Stops at first non-None result.

    :param tenant: The tenant whose rules apply.
    :param levy: The levy collected for one union and one period.
    :return: A :class:`core.interface.LevySplit`, or ``None`` to defer.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def fund_special_allocation_ratio(tenant: TenantContext, year: int) -> int | None:
    """Return the share of the year's union-fund income moved into the hardship special fund.

    The special fund is the 解困脱困专项资金 that each level sets aside yearly. The national
    percentage was not found in any source; the built-in plugin's default is an invented
    5 % (500 basis points), which every tenant should review in its manifest (``builtin``
    settings, ``special_allocation_bp``). The yearly allocation job multiplies the year's income by
    this ratio, rounding down to the fen.

    Stops at first non-None result.

    :param tenant: The tenant whose rules apply.
    :param year: The fiscal year being allocated.
    :return: Integer basis points in ``0..10000`` (``500`` = 5 %), or ``None`` to defer.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def fund_small_payer_refund(tenant: TenantContext, payer: SmallPayerInfo) -> bool | None:
    """Return whether a grassroots union gets its whole upward payment refunded (小额缴费全额返还).

    National rule (厅字〔2022〕47号, 工财发〔2023〕22号), implemented by the built-in plugin: a union whose
    upward payment over the policy year (10-01 to 09-30) is below 10,000 元 gets it all back, except
    state-owned enterprises and budget-funded units; it cannot be combined with the refund for micro
    firms of 25 staff or fewer. Provinces extend or end the policy at different dates (Guangdong ran
    it to 2026-05-31), so the cut-off is a setting. Return ``False`` to refuse outright (a province
    that stopped the policy) and ``None`` to defer to the national rule.

    Stops at first non-None result.

    :param tenant: The tenant whose rules apply.
    :param payer: The union's payments and status for one policy year.
    :return: ``True`` (refund in full), ``False`` (no refund), or ``None`` to defer.

    .. versionadded:: 0.1
    """


# -------------------------------------------------------------------------
# Notifications: called after commit through core.plugins.notify; may be async (to enqueue jobs)
# -------------------------------------------------------------------------


@hookspec
def on_member_joined(tenant: TenantContext, member: MemberInfo) -> None:
    """Notify that a member joined a union in ``tenant`` (the member row is committed).

    Called through ``core.plugins.notify`` after the transaction commits, so an implementation that
    fails does not undo the join; the error is logged. May be ``async def``. Enqueue a job with
    ``member.id`` for anything slow (a welcome SMS, a card application); do not copy the member's
    personal data elsewhere.

    :param tenant: The member's tenant.
    :param member: The member as saved (``member.id`` is set).

    .. versionadded:: 0.1
    """


@hookspec
def on_ledger_entry_posted(tenant: TenantContext, entry: EntryInfo) -> None:
    """Notify that a balanced ledger entry was posted (after commit; entries are immutable).

    Called through ``core.plugins.notify``; may be ``async def``. Use it to keep province reports or
    external book-keeping in step by enqueueing a job with ``entry.id``. An implementation that fails
    does not undo the posting; the error is logged.

    :param tenant: The entry's tenant.
    :param entry: The posted entry with its postings.

    .. versionadded:: 0.1
    """


@hookspec
def register_routes() -> list[Any]:
    """Return HTTP route handlers (litestar ``@get``/``@post`` functions) this plugin serves.

    For what GraphQL cannot carry: file uploads and downloads (the members roster upload, export
    downloads). The web app mounts them beside ``/graphql``; each handler authenticates through the
    request's ``TenantContext``/``Principal`` (set by the edge middleware) and checks its permission
    and, for a capability, that the tenant enables it. Paths start with the plugin's name.

    :return: A list of litestar route handlers (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_shutdown() -> list[Callable[[], Any]]:
    """Return async functions the web app awaits when it shuts down (after in-process jobs drain).

    For background work a plugin started in-process and must let finish (funds' chain linker).

    :return: A list of ``async def stop() -> None`` callables (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_demo_data() -> list[Callable[..., Any]]:
    """Return async functions that fill the embedded default's demo provinces with sample data.

    ``huijia demo`` (and ``huijia serve --demo``, which ``make run`` uses) awaits each one after the
    demo provinces are synced and their users exist, on the embedded default only. Each takes the
    province codes and returns printable lines; it must go through the services (so the data obeys
    every rule), be deterministic and be idempotent: a second run adds nothing.

    :return: A list of ``async def seed(codes: list[str]) -> list[str]`` callables (may be empty).

    .. versionadded:: 0.2
    """


@hookspec
def register_encrypted_columns() -> list[EncryptedColumn | IndexedColumn]:
    """Return every column this plugin stores keyring-encrypted PII or blind indexes in.

    ``huijia keys rotate`` re-encrypts the tokens of every registered column (the encrypted column of
    an :class:`core.interface.IndexedColumn` included) and ``huijia keys rotate-index`` recomputes
    every registered blind index, for every tenant, whether or not it enables the capability. A
    column left out keeps needing the old key after a rotation: retiring that key loses its data,
    and its blind indexes stop matching. Core's own columns (members, workers) register here too.

    :return: A list of :class:`core.interface.EncryptedColumn` and
        :class:`core.interface.IndexedColumn` (may be empty).

    .. versionadded:: 0.3
    """


@hookspec
def register_sms_gateways() -> list[SmsGateway]:
    """Return the SMS gateways this plugin offers (see :class:`core.interface.SmsGateway`).

    Asked through ``hooks_for(tenant)``, so only gateways of plugins the tenant enables count. A tenant
    whose built-in setting ``worker_phone_verification`` is ``"sms"`` sends workers a one-time code
    through one of them (``sms_gateway`` names it when there are several); with none, registration
    says the province's SMS service is not configured.

    :return: A list of gateway adapters (may be empty).

    .. versionadded:: 0.4
    """


@hookspec
def register_file_stores() -> list[Any]:
    """Return the :class:`core.files.FileStore` areas this plugin keeps encrypted files in.

    ``huijia backup`` copies every registered area into the archive (still encrypted, the keys stay
    out), ``huijia restore`` puts them back, ``huijia files verify`` decrypts each file, and the
    province export and erase reach them. A file kept in an area left out is lost by a restore.
    Core's members and funds domains register theirs here too.

    :return: A list of ``FileStore`` objects (``core.sdk.files.store("<area>")``; may be empty).

    .. versionadded:: 0.4
    """
