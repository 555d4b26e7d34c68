from django.apps import AppConfig


class KittingConfig(AppConfig):
    name = "kitting"
    verbose_name = "Kitting"
