"""The one table that maps each action to the roles allowed to perform it.

A role is granted at an org unit and covers that unit's subtree. GraphQL permission classes and
services both read this table, so a field and the service behind it cannot disagree. It sits at
core's top level, not in core.accounts, because the GraphQL layer and every domain check it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.interface import Role

__all__ = ["PERMISSIONS", "STAFF", "Grant", "Principal", "Role", "describe", "roles_for"]


STAFF = frozenset({Role.TENANT_ADMIN, Role.APPROVER, Role.CLERK, Role.FINANCE, Role.AUDITOR})

PERMISSIONS: dict[str, frozenset[Role]] = {
    # Platform operators act outside any province.
    "tenant.create": frozenset({Role.PLATFORM_ADMIN}),
    "tenant.list": frozenset({Role.PLATFORM_ADMIN}),
    # Org tree
    "org.read": STAFF,
    "org.write": frozenset({Role.TENANT_ADMIN}),
    # Province plugin settings (rules such as 低保 lines, levy splits); checked at the province root.
    "plugin.configure": frozenset({Role.TENANT_ADMIN}),
    # Users and grants
    "user.read": frozenset({Role.TENANT_ADMIN, Role.AUDITOR}),
    "user.write": frozenset({Role.TENANT_ADMIN}),
    # Audit log
    "audit.read": frozenset({Role.AUDITOR, Role.TENANT_ADMIN}),
    # Jobs started by staff
    "job.read": STAFF,
    # Funds: the double-entry ledger (core/funds). Clerks read their own subtree; auditors at the
    # root read everything.
    "ledger.read": frozenset({Role.FINANCE, Role.APPROVER, Role.AUDITOR, Role.TENANT_ADMIN, Role.CLERK}),
    "ledger.post": frozenset({Role.FINANCE}),
    "ledger.reserve": frozenset({Role.FINANCE}),
    "ledger.approve": frozenset({Role.APPROVER}),
    "ledger.close": frozenset({Role.FINANCE}),
    "ledger.verify": frozenset({Role.AUDITOR, Role.TENANT_ADMIN, Role.FINANCE}),
    "ledger.configure": frozenset({Role.TENANT_ADMIN}),
    "fund.write": frozenset({Role.TENANT_ADMIN, Role.FINANCE}),
    "budget.write": frozenset({Role.FINANCE}),
    "budget.lift": frozenset({Role.APPROVER}),
    "report.read": frozenset({Role.FINANCE, Role.APPROVER, Role.AUDITOR, Role.TENANT_ADMIN, Role.CLERK}),
    # Members (core/members): lists and details are masked; reveal and unmasked export are audited.
    "member.read": STAFF,
    "member.write": frozenset({Role.TENANT_ADMIN, Role.CLERK}),
    "member.reveal": frozenset({Role.TENANT_ADMIN, Role.APPROVER}),
    "member.import": frozenset({Role.TENANT_ADMIN, Role.CLERK}),
    "member.export": frozenset({Role.TENANT_ADMIN, Role.CLERK, Role.AUDITOR}),
    "member.export_unmasked": frozenset({Role.TENANT_ADMIN}),
    "member.transfer.approve": frozenset({Role.TENANT_ADMIN, Role.APPROVER}),
}


_merged: dict[str, frozenset[Role]] | None = None


def roles_for(action: str) -> frozenset[Role]:
    """The roles allowed ``action``: core's table above merged with every plugin's
    ``register_permissions`` (this module contributes PERMISSIONS through the same hook)."""
    global _merged
    table = _merged
    if table is None:  # resolved once: this runs for every permission check of every request
        from core.registry import get_registry

        table = _merged = get_registry().permissions
    try:
        return table[action]
    except KeyError:  # a typo must not silently mean "nobody" or "everybody"
        raise KeyError(
            f"unknown action {action!r}; add it to core/permissions.py or a plugin's register_permissions"
        ) from None


def describe(action: str) -> str:
    roles = ", ".join(sorted(r.value for r in roles_for(action)))
    return f"Requires `{action}` (roles: {roles}; granted at an org unit, covering its subtree)."


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    org_unit_id: int
    org_unit_path: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated user of a request or job."""

    user_id: int
    username: str
    tenant_id: int
    grants: tuple[Grant, ...]
    token_id: int | None = None

    def roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants)

    def can(self, action: str, unit_path: str | None = None) -> bool:
        """True when some grant of an allowed role covers ``unit_path`` (any unit when None)."""
        allowed = roles_for(action)
        for grant in self.grants:
            if grant.role in allowed and (unit_path is None or unit_path.startswith(grant.org_unit_path)):
                return True
        return False

    def scope_paths(self, action: str) -> list[str]:
        """The subtree roots where this principal may perform ``action``: for list filters."""
        allowed = roles_for(action)
        paths = sorted({g.org_unit_path for g in self.grants if g.role in allowed})
        # Drop paths already covered by a shorter one.
        out: list[str] = []
        for p in paths:
            if not any(p.startswith(q) for q in out):
                out.append(p)
        return out
