"""The audit domain as a plugin: its app and GraphQL."""

from __future__ import annotations

from typing import Any

from core.hookspecs import hookimpl


@hookimpl
def register_piccolo_apps() -> list[str]:
    return ["core.audit.piccolo_app"]


@hookimpl
def register_graphql() -> list[Any]:
    from core.audit.graphql import AuditQuery, AuditRecord
    from core.interface import GraphQLContribution

    return [GraphQLContribution(query=[AuditQuery], types=[AuditRecord])]
