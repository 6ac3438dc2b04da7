"""The OpenAPI document (drf-spectacular): its view, and its description of the token
authentication."""

from django.core.signals import setting_changed
from django.dispatch import receiver
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.response import Response


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token made on the account page (/account/tokens/).",
        }


class SchemaView(SpectacularAPIView):
    """/api/schema/, generated once per process and API version: the document depends only on
    the code and the settings, and generating it costs about a quarter of a second of CPU on a
    public URL (anyone could keep a worker busy with it). `?lang=` is not honoured: the site and
    its API are written in English only, and every language would be another document to build.
    """

    _documents = {}

    @extend_schema(**SCHEMA_KWARGS)  # as the view it replaces: left out of the document
    def get(self, request, *args, **kwargs):
        return self._get_schema_response(request)

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        if version not in self._documents:
            self._documents[version] = super()._get_schema_response(request).data
        filename = self._get_filename(request, version)
        return Response(
            data=self._documents[version],
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )


@receiver(setting_changed)
def _forget_documents(**kwargs):
    SchemaView._documents.clear()
