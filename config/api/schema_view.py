"""/api/schema/: the OpenAPI document, generated once per process and format.

Generating it walks every route and serializer (120-350 ms); it changes only with the code (or,
in tests, the settings), so each worker keeps the rendered bytes per media type and script
prefix and answers later requests with them. A request with other parameters than `format`
(`?version=`, any value a client likes) is generated as before, so the store stays small."""

from django.core.signals import setting_changed
from django.http import HttpResponse
from django.urls import get_script_prefix
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView

_documents: dict[tuple[str, str], tuple[bytes, str, str]] = {}


class CachedSchemaView(SpectacularAPIView):
    @extend_schema(exclude=True)  # as drf-spectacular's own get: the document is not in itself
    def get(self, request, *args, **kwargs):
        if set(request.query_params) - {"format"}:
            return super().get(request, *args, **kwargs)
        media_type = request.accepted_media_type
        key = (media_type, get_script_prefix())
        document = _documents.get(key)
        if document is None:
            response = super().get(request, *args, **kwargs)
            renderer = request.accepted_renderer
            body = renderer.render(response.data, media_type, self.get_renderer_context())
            # The Content-Type DRF's Response would send.
            content_type = (
                f"{media_type}; charset={renderer.charset}" if renderer.charset else media_type
            )
            document = _documents[key] = (body, content_type, response["Content-Disposition"])
        body, content_type, disposition = document
        return HttpResponse(
            body, content_type=content_type, headers={"Content-Disposition": disposition}
        )


def _forget(**kwargs) -> None:
    # Settings (SPECTACULAR_SETTINGS, ROOT_URLCONF…) shape the document: tests change them.
    _documents.clear()


setting_changed.connect(_forget)
