"""/api/schema/ is generated once per process and format, then answered from the stored bytes,
which are those drf-spectacular's own view generates. The generations are counted through
drf-spectacular's public postprocessing hooks."""

import pytest
from django.test import RequestFactory
from drf_spectacular.settings import SPECTACULAR_DEFAULTS, patched_settings
from drf_spectacular.views import SpectacularAPIView

generated = []


def count_generation(result, generator, request, public):
    generated.append(request.path)
    return result


@pytest.fixture
def counted(settings):
    # Changing a setting forgets the stored documents (and the document follows the settings).
    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS}
    generated.clear()
    hooks = [*SPECTACULAR_DEFAULTS["POSTPROCESSING_HOOKS"], f"{__name__}.count_generation"]
    with patched_settings({"POSTPROCESSING_HOOKS": hooks}):
        yield generated


def uncached(path: str, **headers):
    response = SpectacularAPIView.as_view()(RequestFactory().get(path, **headers))
    return response.render()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/schema/", {}),
        ("/api/schema/?format=json", {}),
        # The store is keyed by the negotiated media type, not by ?format=: JSON asked for by
        # Accept alone is stored and answered as JSON too, not as the default YAML.
        ("/api/schema/", {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}),
    ],
)
def test_the_schema_is_generated_once_and_answered_byte_for_byte(
    client, db, counted, path, headers
):
    first = client.get(path, **headers)
    second = client.get(path, **headers)
    assert counted == ["/api/schema/"]  # the second request was not generated again

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content
    for header in ("Content-Type", "Content-Disposition"):
        assert first[header] == second[header]
    counted.clear()
    reference = uncached(path, **headers)
    assert counted == ["/api/schema/"]
    assert reference.content == first.content
    assert (reference["Content-Type"], reference["Content-Disposition"]) == (
        first["Content-Type"],
        first["Content-Disposition"],
    )


def test_each_format_is_its_own_document(client, db, counted):
    yaml = client.get("/api/schema/")
    json = client.get("/api/schema/?format=json")
    client.get("/api/schema/")
    client.get("/api/schema/?format=json")
    assert len(counted) == 2
    assert yaml["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert json["Content-Type"] == "application/vnd.oai.openapi+json"
    assert yaml.content.startswith(b"openapi: 3.0.3")
    assert json.json()["openapi"] == "3.0.3"
    # Neither the document itself nor the operations routes are API operations.
    assert not {"/api/schema/", "/metrics", "/healthz", "/readyz"} & set(json.json()["paths"])


def test_other_parameters_are_generated_each_time(client, db, counted):
    client.get("/api/schema/?version=2")
    client.get("/api/schema/?version=2")
    assert len(counted) == 2
