from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: liveness, readiness, metrics and the access log, kept out of the domain and
    the protocol layer."""

    name = "ops"

    def ready(self) -> None:
        from ops import metrics

        metrics.connect()
