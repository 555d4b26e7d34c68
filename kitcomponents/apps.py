from django.apps import AppConfig


class KitComponentsConfig(AppConfig):
    name = "kitcomponents"
    verbose_name = "Kit components"
