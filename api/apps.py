from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self):
        # Registers the token scheme with drf-spectacular (by import, as its extensions work).
        from api import schema  # noqa: F401
