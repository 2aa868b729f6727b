"""Workers (职工): self-service accounts for union members and people who want to join.

A worker account is an ordinary user of the tenant (``app_user``) holding only the ``worker`` role,
plus a ``worker_account`` row that ties it to one member record once the worker has proved who they
are. Every worker-facing field checks that the object it returns belongs to the caller
(:func:`core.workers.access.require_worker`, offered to capabilities as ``core.sdk.require_worker``).
"""
