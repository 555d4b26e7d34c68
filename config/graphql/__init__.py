"""ION's GraphQL (contract 14) over the same domain as the REST dialect: `POST /graphql`.

Protocol only, like config.api: resolvers call the apps' services and selectors, with the REST
API's permissions, bearer tokens and error catalogue. `schema.py` assembles the schema from
`types.py` (ION's object types), `lists.py` (filters, sorting and Relay paging), `queries.py`,
`mutations.py`, `limits.py` (depth and cost, checked before anything runs) and `errors.py`;
`views.py` serves it, with GraphiQL for browsers from vendored files (`static/graphiql/`).
"""
