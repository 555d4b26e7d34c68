"""What the rule-matrix tests share: a refusal as (code, model field) pairs, and the whole
database as plain rows, to prove a refused call wrote nothing."""

from django.apps import apps

from core.errors import DomainError, DomainErrors

DOMAIN_APPS = ("inventory", "kitcomponents", "kitting")


def refusal(exc: DomainError | DomainErrors) -> list[tuple[str, str | None]]:
    return [(err.code, err.field) for err in exc.errors]


def database() -> dict[str, list[dict]]:
    """Every row of every domain model, in key order."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for label in DOMAIN_APPS
        for model in apps.get_app_config(label).get_models()
    }
