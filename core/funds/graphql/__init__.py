"""GraphQL for union funds: accounts, entries, balances, reservations, budgets, periods, reports.

Roles (core/permissions.py): finance posts (ledger.post, ledger.reserve, budget.write,
ledger.close), approvers approve manual entries above the threshold and lift budgets, auditors read
everything, clerks read their own subtree. Amounts are BigInt fen; posting inputs carry a side and a
positive amount.

The package is split along the schema's parts: ``types`` (enums and objects), ``reports``, ``inputs``
(inputs and payloads), ``helpers`` (shared look-ups and node resolvers), ``query`` and ``mutation``.
"""

from core.funds.graphql.helpers import NODE_RESOLVERS, NODE_TYPES
from core.funds.graphql.mutation import FundsMutation
from core.funds.graphql.query import FundsQuery

__all__ = ["NODE_RESOLVERS", "NODE_TYPES", "FundsMutation", "FundsQuery"]
