from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules

from config.api import spec, spreadsheets
from config.api.query.registry import registry


class ApiConfig(AppConfig):
    """The Intacct protocol layer: describes every object once, when Django starts."""

    name = "config.api"
    label = "intacct_api"
    verbose_name = "Intacct REST API"

    def ready(self) -> None:
        # Each app declares its objects in `<app>/api/objects.py`.
        autodiscover_modules("api.objects")
        spec.build()
        registry.load(spec.objects())
        spreadsheets.register_columns()
