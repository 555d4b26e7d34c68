from django.apps import AppConfig


class GraphQLConfig(AppConfig):
    """Installed for its template (GraphiQL's page), its vendored static files and its
    `graphql_schema` command."""

    name = "config.graphql"
    label = "kitsmith_graphql"
    verbose_name = "GraphQL (ION)"
