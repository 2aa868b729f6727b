"""The subtree rule, written once: an action on a thing is allowed only where the actor's grant
for that action covers the thing's org unit.

Holding a permission "somewhere" in the province is not enough. Every service or resolver that
takes an id checks the TARGET's unit with ``require_in_subtree`` (single objects) or filters with
``scope_clause`` / ``user_ids_covered`` (lists). Things without a unit of their own (tenant-wide
jobs, anonymous audit records, users without grants) belong to the province root: only a grant
at the root covers them.

Refusals follow one pattern: outside what you may *read* is NOT_FOUND (existence is not
confirmed), readable but not actionable is FORBIDDEN.

Every domain (the audit log too, which core.accounts writes to) applies the rule, so it sits at
core's top level next to core.permissions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from core.errors import DomainError, ErrorCode
from core.permissions import Principal


def is_root_path(path: str) -> bool:
    """A province root's path is "/<id>/"."""
    return path.count("/") == 2


def path_in(path: str | None, scope_paths: Sequence[str]) -> bool:
    return path is not None and any(path.startswith(p) for p in scope_paths)


def covers_root(principal: Principal, action: str) -> bool:
    """True when ``action`` is granted at the province root (covers every unit, and unit-less things)."""
    return any(is_root_path(p) for p in principal.scope_paths(action))


def require_root(principal: Principal, action: str) -> None:
    """Raise FORBIDDEN unless ``action`` is granted at the province root: for province-wide
    operations (a hash chain covers every unit's records, so a district grant does not reach it)."""
    if not covers_root(principal, action):
        raise DomainError(ErrorCode.FORBIDDEN, f"not allowed: {action} at the province root")


def in_subtree(principal: Principal, action: str, unit_path: str | None) -> bool:
    """May ``principal`` perform ``action`` on a thing at ``unit_path``? ``None`` means "no unit":
    only a root grant covers it."""
    if unit_path is None:
        return covers_root(principal, action)
    return principal.can(action, unit_path)


def require_in_subtree(principal: Principal, action: str, unit_path: str | None, *, what: str = "object",
                       field: str | None = "id", read_action: str | None = None,
                       message_zh: str | None = None) -> None:
    """Raise unless ``action`` covers ``unit_path``. Outside ``read_action`` (default: ``action``)
    the thing does not exist for this caller (NOT_FOUND, with ``message_zh`` for people when given);
    readable but not actionable is FORBIDDEN."""
    if not in_subtree(principal, read_action or action, unit_path):
        raise DomainError(ErrorCode.NOT_FOUND, f"{what} not found", field, message_zh)
    if not in_subtree(principal, action, unit_path):
        # Like a missing permission anywhere (Context.require): a refusal of the caller, not of a field.
        raise DomainError(ErrorCode.FORBIDDEN, f"not allowed: {action}")


def scope_clause(principal: Principal, action: str, unit_column: str, tenant_id: int) -> tuple[str, list[Any]]:
    """A SQL condition (``{}`` placeholders, for ``core.dbutil.raw``) that keeps rows whose unit
    (``unit_column``, an org_unit id) lies in the principal's subtrees for ``action``. Root grants
    add no condition; no grant at all keeps nothing."""
    paths = principal.scope_paths(action)
    if any(is_root_path(p) for p in paths):
        return "1 = 1", []
    if not paths:
        return "1 = 0", []
    likes = " OR ".join("o.path LIKE {}" for _ in paths)
    return (f"EXISTS (SELECT 1 FROM org_unit o WHERE o.tenant_id = {{}} AND o.id = {unit_column} AND ({likes}))",
            [tenant_id, *[p + "%" for p in paths]])


def user_covered(principal: Principal, action: str, grant_paths: Iterable[str]) -> bool:
    """A user is managed (``user.write``, ``user.unlock``) by whoever covers EVERY unit the user holds a
    grant at: a district admin cannot touch someone who also holds power above the district. A
    user without grants belongs to the root."""
    paths = list(grant_paths)
    if not paths:
        return covers_root(principal, action)
    return all(principal.can(action, p) for p in paths)


def user_visible(principal: Principal, action: str, grant_paths: Iterable[str]) -> bool:
    """A user is visible (``user.read``) when one of their grants lies inside the reader's subtree
    (or to a root reader, always)."""
    paths = list(grant_paths)
    if covers_root(principal, action):
        return True
    return any(principal.can(action, p) for p in paths)


async def user_grant_paths(tenant_id: int, user_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each user's grant unit paths (one query)."""
    from core.dbutil import on_postgres, raw

    if not user_ids:
        return {}
    ids = [int(u) for u in user_ids]
    if on_postgres():
        rows = await raw("SELECT g.user_id, o.path FROM role_grant g JOIN org_unit o ON o.id = g.org_unit_id "
                         "AND o.tenant_id = g.tenant_id WHERE g.tenant_id = {} AND g.user_id = ANY({}::bigint[])",
                         tenant_id, ids)
    else:
        rows = await raw("SELECT g.user_id, o.path FROM role_grant g JOIN org_unit o ON o.id = g.org_unit_id "
                         f"AND o.tenant_id = g.tenant_id WHERE g.tenant_id = {{}} AND g.user_id IN ({', '.join(map(str, ids))})",
                         tenant_id)
    out: dict[int, list[str]] = {u: [] for u in ids}
    for r in rows:
        out[r["user_id"]].append(r["path"])
    return out


async def require_user_covered(principal: Principal, tenant_id: int, user_id: int, action: str,
                               field: str = "userId") -> None:
    """The target user exists for the caller (``user.read`` visibility) and ``action`` covers all of
    their grants; NOT_FOUND / FORBIDDEN otherwise. Callers still check the user exists."""
    paths = (await user_grant_paths(tenant_id, [user_id]))[user_id]
    if principal.user_id != user_id and not user_visible(principal, "user.read", paths) \
            and not user_covered(principal, action, paths):
        raise DomainError(ErrorCode.NOT_FOUND, "user not found", field)
    if not user_covered(principal, action, paths):
        raise DomainError(ErrorCode.FORBIDDEN, "the user holds grants outside your subtree", field)


def users_scope_clause(principal: Principal, action: str, tenant_id: int) -> tuple[str, list[Any]]:
    """SQL condition on ``app_user u``: users visible for ``action`` (a grant inside the subtree)."""
    paths = principal.scope_paths(action)
    if any(is_root_path(p) for p in paths):
        return "1 = 1", []
    if not paths:
        return "1 = 0", []
    likes = " OR ".join("o.path LIKE {}" for _ in paths)
    return ("EXISTS (SELECT 1 FROM role_grant g JOIN org_unit o ON o.id = g.org_unit_id AND o.tenant_id = g.tenant_id "
            f"WHERE g.tenant_id = {{}} AND g.user_id = u.id AND ({likes}))", [tenant_id, *[p + "%" for p in paths]])


def users_covered_clause(principal: Principal, action: str, tenant_id: int, user_column: str) -> tuple[str, list[Any]]:
    """SQL condition: ``user_column`` is a user with at least one grant, all inside the subtree for
    ``action`` (the audit view of a district shows what its own people did)."""
    paths = principal.scope_paths(action)
    if any(is_root_path(p) for p in paths):
        return "1 = 1", []
    if not paths:
        return "1 = 0", []
    likes = " OR ".join("o.path LIKE {}" for _ in paths)
    return (f"{user_column} IN (SELECT g.user_id FROM role_grant g JOIN org_unit o ON o.id = g.org_unit_id "
            f"AND o.tenant_id = g.tenant_id WHERE g.tenant_id = {{}} GROUP BY g.user_id "
            f"HAVING MIN(CASE WHEN ({likes}) THEN 1 ELSE 0 END) = 1)", [tenant_id, *[p + "%" for p in paths]])


def unit_of_scope(scope_paths: Sequence[str]) -> int | None:
    """The org unit a job started within ``scope_paths`` belongs to: the one subtree root, or None
    (the province) when the scope is the root or spans several subtrees."""
    if len(scope_paths) != 1 or is_root_path(scope_paths[0]):
        return None
    return int(scope_paths[0].strip("/").split("/")[-1])
