from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: liveness, readiness, metrics, the access log, the client's address behind
    trusted proxies, request ids, rate-limit windows and the reverse proxy's error pages, kept
    out of the domain and the protocol layer (they serve REST, GraphQL and OAuth alike)."""

    name = "ops"

    def ready(self) -> None:
        from ops import metrics

        metrics.connect()
