from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from config.api import oauth, responses, subrequests
from config.api.model_service import ModelView
from config.api.protocol import VERSION_PREFIX
from config.api.schema_view import CachedSchemaView
from config.graphql.views import GraphQLView

# The Intacct surface: served at the root and again under /ia/api/v1 (contract 1.1).
api_patterns = [
    path("", include("inventory.api.urls")),
    path("", include("kitcomponents.api.urls")),
    path("", include("kitting.api.urls")),
    path("", include("config.api.query.urls")),
    re_path(r"^services/core/model/?$", ModelView.as_view(), name="model"),
    re_path(r"^services/core/composite/?$", subrequests.CompositeView.as_view(), name="composite"),
    re_path(r"^oauth2/token/?$", oauth.token_view, name="oauth2-token"),
    re_path(r"^oauth2/authorize/?$", oauth.authorize_view, name="oauth2-authorize"),
]

urlpatterns = [
    # /healthz, /readyz, /metrics (contract 16).
    path("", include("ops.urls")),
    path("admin/", admin.site.urls),
    path("", include("config.landing")),  # exactly "/": the landing page (the admin's View site)
    path("api/schema/", CachedSchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # ION's GraphQL: at the root only (the /ia/api/v1 prefix is Intacct's).
    path("graphql", GraphQLView.as_view(), name="graphql"),
    path("", include(api_patterns)),
    path(VERSION_PREFIX.lstrip("/") + "/", include((api_patterns, "v1"), namespace="v1")),
    # Anything else is an ia::error 404, also with DEBUG on (no HTML page ever).
    re_path(r"^.*$", responses.unknown_route),
]

handler400 = responses.handler400
handler403 = responses.handler403
handler404 = responses.handler404
handler500 = responses.handler500
