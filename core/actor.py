"""Who performs an action: the user (or the system) an audit record and a service call name.

A leaf module (it imports nothing of core): the GraphQL context builds an ``Actor`` for every
request, and every domain service takes one, so it must sit below all of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str


SYSTEM = Actor(None, "system")
