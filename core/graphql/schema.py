"""Assemble the one GraphQL schema from the domains' Query and Mutation types."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Optional

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from core.accounts.graphql import AccountsMutation, AccountsQuery, User, resolve_user
from core.audit.graphql import AuditQuery, AuditRecord
from core.errors import DomainError
from core.funds.graphql import NODE_RESOLVERS as FUNDS_NODES, NODE_TYPES as FUNDS_TYPES, FundsMutation, FundsQuery
from core.graphql.execution import FastListExecutionContext
from core.graphql.base import ApiError, Info, Node, UserError, api_error, from_global_id, perm, run_mutation
from core.jobs.graphql import Job, JobsMutation, JobsQuery, resolve_job
from core.members.graphql import NODE_RESOLVERS as MEMBERS_NODES, NODE_TYPES as MEMBERS_TYPES, MembersMutation, MembersQuery
from core.settings import get_settings
from core.tenancy.graphql import OrgUnit, TenancyMutation, TenancyQuery, Tenant, resolve_org_unit

# node(id) dispatch: type name -> resolver(info, pk). Each resolver applies its own permission and
# tenant filter, so a guessed id from another tenant finds nothing.
NODE_RESOLVERS: dict[str, Callable[[Info, int], Awaitable[Any]]] = {
    "OrgUnit": resolve_org_unit,
    "User": resolve_user,
    "Job": resolve_job,
    **FUNDS_NODES,
    **MEMBERS_NODES,
}


@strawberry.type
class CoreQuery:
    @strawberry.field(description="Any object by its global id, within your tenant; null when it does not exist or is not visible to you.")
    async def node(self, info: Info, id: strawberry.ID) -> Optional[Node]:
        try:
            info.context.authenticated()
            type_name, pk = from_global_id(id)
        except DomainError as exc:
            if exc.code.value == "NOT_FOUND":
                return None
            raise api_error(exc) from None
        resolver = NODE_RESOLVERS.get(type_name)
        if resolver is None:
            return None
        try:
            return await resolver(info, pk)
        except DomainError as exc:
            raise api_error(exc) from None


@strawberry.type
class JobPayload:
    job: Optional[Job] = None
    errors: list[UserError]


@strawberry.type
class CoreMutation:
    @strawberry.mutation(description=perm("audit.read", "Start a background re-verification of the audit chain; poll `job(id)`."))
    async def audit_verify_start(self, info: Info) -> JobPayload:
        from core.jobs.runner import enqueue, get_job

        async def work() -> dict[str, Any]:
            tenant, principal = info.context.require("audit.read")
            job_id = await enqueue(tenant, "audit.verify", created_by=principal.user_id)
            from core.audit.services import record

            await record(tenant, info.context.actor, "job.start", "Job", job_id, {"name": "audit.verify"})
            return {"job": Job.from_row(await get_job(tenant, job_id))}

        return await run_mutation(JobPayload, work)


Query = merge_types("Query", (CoreQuery, TenancyQuery, AccountsQuery, AuditQuery, JobsQuery, FundsQuery, MembersQuery))
Mutation = merge_types("Mutation", (CoreMutation, TenancyMutation, AccountsMutation, JobsMutation, FundsMutation, MembersMutation))


def _should_mask(error: GraphQLError) -> bool:
    """Typed errors and GraphQL's own syntax/validation errors pass; anything unexpected (a bug, a
    driver error quoting a row) is masked to a generic message."""
    original = error.original_error
    # A GraphQLError inside another is graphql-core's own report of a bad input value (a variable
    # a scalar refused: "Variable '$y' has invalid value: Int cannot represent ..."): the client's
    # mistake, shown as is. ApiError (our typed refusals) is one too.
    if original is None or isinstance(original, GraphQLError):
        return False
    if isinstance(original, (ValueError, TypeError)) and "BigInt" in str(original):
        return False
    return True


class HuijiaSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log only unexpected failures, by type and path. Strawberry's default logs the message and
        the query text, which can quote personal data typed into a filter."""
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, GraphQLError):
                continue
            log.error("graphql resolver failed", exc_info=(type(original), original, original.__traceback__),
                      extra={"operation": ".".join(str(p) for p in (error.path or []))})


log = logging.getLogger("huijia.graphql")


def build_schema(fast: bool = True) -> strawberry.Schema:
    s = get_settings()
    return HuijiaSchema(
        query=Query,
        mutation=Mutation,
        types=[OrgUnit, User, Tenant, Job, AuditRecord, *FUNDS_TYPES, *MEMBERS_TYPES],
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=FastListExecutionContext if fast else None,
        extensions=[
            ParserCache,
            ValidationCache,
            MaxTokensLimiter(max_token_count=s.graphql_max_tokens),
            QueryDepthLimiter(max_depth=s.graphql_max_depth),
            MaxAliasesLimiter(max_alias_count=s.graphql_max_aliases),
            MaskErrors(should_mask_error=_should_mask, error_message="Internal server error"),
        ],
    )


schema = build_schema()
