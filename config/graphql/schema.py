"""The schema: ION's queries and mutations, the strawberry-django optimizer, and the limits
checked before an operation runs. `python manage.py graphql_schema` writes it to schema.graphql."""

from decimal import Decimal

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from config.graphql import types
from config.graphql.errors import log_unexpected
from config.graphql.limits import OperationLimits
from config.graphql.mutations import Mutation
from config.graphql.queries import Query

# A document this long is refused while it is parsed, before any rule reads it.
MAX_TOKENS = 20_000


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Refusals are answers, not faults: only what maps to a 500 is logged (with its trace).
        request = getattr(getattr(execution_context, "context", None), "request", None)
        for error in errors:
            log_unexpected(error, request)


schema = Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(scalar_map={Decimal: types.DECIMAL}),
    extensions=[
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules([OperationLimits]),
        # The resolvers read whole rows (types.OPTIMIZER): joins and prefetches only.
        lambda: DjangoOptimizerExtension(enable_only_optimization=False),
    ],
)
