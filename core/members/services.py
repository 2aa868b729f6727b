"""Writes to members, households and transfers.

Each function takes the tenant first and the actor second, owns its transaction, writes the member's
history and the audit log inside it, and raises ``DomainError`` for refusals. Personal values are
validated (``core.members.validation``), encrypted and blind-indexed here and never leave this layer
in plain text, except through ``reveal`` (audited, with a reason).

Org-unit changes happen only through transfers (会籍转移), which need both unions' approval; a
transfer between tenants moves the member row itself, or merges it into the destination's record of
a former member (see ``_move_between_tenants``).

This module is the facade; the writes live by concern in :mod:`core.members.member_writes` (members),
:mod:`core.members.households` and :mod:`core.members.transfers`, on what they share in
:mod:`core.members.member_common`.
"""

from __future__ import annotations

from core.members.households import add_person, create_household, remove_person
from core.members.member_common import (
    CLOSED_ZH,
    DUPLICATE_ZH,
    HOUSEHOLD_LOCK_NAMESPACE,
    MEMBER_LOCK_NAMESPACE,
    add_history,
    clean_for_api,
    history_changes,
    joined_notice,
    member_info_of,
    row_context,
    set_tags,
    today,
    transfer_display_mask,
    unit_directory,
    unit_info,
)
from core.members.member_common import (
    _member_values as _member_values,  # a test writes a member row by hand with it
)
from core.members.member_writes import (
    REVEAL_FIELDS,
    create_member,
    leave_member,
    mark_deceased,
    rejoin_member,
    reveal,
    update_member,
)
from core.members.transfers import (
    ACTIVE_STATES,
    UNIFORM_REFUSAL,
    UNIFORM_REFUSAL_ZH,
    DestinationRecordError,
    approvable_sides,
    approve_transfer,
    reject_transfer,
    request_transfer,
)

__all__ = [
    "ACTIVE_STATES", "CLOSED_ZH", "DUPLICATE_ZH", "DestinationRecordError", "HOUSEHOLD_LOCK_NAMESPACE",
    "MEMBER_LOCK_NAMESPACE", "REVEAL_FIELDS", "UNIFORM_REFUSAL", "UNIFORM_REFUSAL_ZH", "add_history",
    "add_person", "approvable_sides", "approve_transfer", "clean_for_api", "create_household",
    "create_member", "history_changes", "joined_notice", "leave_member", "mark_deceased", "member_info_of",
    "reject_transfer", "rejoin_member", "remove_person", "request_transfer", "reveal", "row_context",
    "set_tags", "today", "transfer_display_mask", "unit_directory", "unit_info", "update_member",
]
