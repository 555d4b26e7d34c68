"""The API reference in docs/ cannot rot: its generated parts are what the API serves, its links
resolve, and every HTTP example on every page is sent to a live server on fresh demo data and
answered as documented (tests/support/examples.py says how an example is written)."""

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from config.api import model_service
from config.api.management.commands.api_reference import PART, pages
from tests.support.examples import ANY, Reader, demo_credentials, http_examples, matches

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = {page.name: page.read_text() for page in pages(ROOT)}


def test_generated_parts_are_up_to_date():
    call_command("api_reference", "--check")


@pytest.mark.parametrize("option", ["--check", "--write"])
def test_a_marker_that_opens_or_closes_no_part_fails(settings, tmp_path, option):
    """A misspelt marker would otherwise be left as it is, its part never generated."""
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    text = (
        "<!-- api-reference:errors -->\nold\n<!-- api-reference:end -->\n\n"
        "<!-- api-reference:objects inventory-control/item -->\nold\n<!-- api-reference:end -->\n"
    )
    page.write_text(text)
    settings.BASE_DIR = tmp_path
    with pytest.raises(CommandError) as failed:
        call_command("api_reference", option)
    assert str(failed.value) == (
        "docs/page.md: markers that open or close no generated part: "
        "line 5: <!-- api-reference:objects inventory-control/item -->; "
        "line 7: <!-- api-reference:end -->"
    )
    assert page.read_text() == text


def test_every_object_and_workflow_has_its_generated_part():
    """A new object or workflow is not served undocumented: a page must hold its fields."""
    documented = {
        f"{match['kind']}s/{match['name']}"
        for text in PAGES.values()
        for match in PART.finditer(text)
        if match["name"]
    }
    served = {r.api_object for r in model_service.resources() if r.kind != "services"}
    assert documented == served


def test_the_index_links_every_page_and_every_link_resolves():
    index = PAGES["README.md"]
    linked = set(re.findall(r"\]\(([a-z-]+\.md)\)", index))
    assert linked == set(PAGES) - {"README.md"}
    for name, text in PAGES.items():
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", text):
            assert (DOCS / target).resolve().is_file(), f"{name} links {target}"


def test_the_readme_points_to_docs_not_to_the_shared_spec():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/README.md)" in readme
    assert "shared spec" not in readme and "API.md" not in readme


@pytest.mark.parametrize("name", sorted(name for name, text in PAGES.items() if "```http" in text))
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_examples_answer_as_documented(live_server, name):
    """Each page is a reader's session on fresh demo data, its examples sent in page order."""
    examples = http_examples(PAGES[name])
    assert examples
    reader = Reader(live_server.url, *demo_credentials())
    reader.authenticate()
    for example in examples:
        reader.check(name, example)


def test_a_page_is_held_to_every_value_it_documents():
    """The comparison the examples rely on: `…` is any value, anything else must be equal (a
    number as a number), and no member may be missing or extra."""
    assert matches(
        {"key": "7", "audit": ANY, "quantity": 25}, {"key": "7", "audit": {}, "quantity": 25.0}
    )
    assert not matches({"key": "7"}, {"key": "7", "id": "7"})
    assert not matches({"key": "7", "id": "7"}, {"key": "7"})
    assert not matches([1, 2], [1, 2, 3])
    assert not matches({"quantity": 1}, {"quantity": True})
    assert not matches({"key": "7"}, {"key": 7})
    with pytest.raises(AssertionError, match="a request without its response"):
        http_examples("```http\nGET /healthz\n```\n\n```http\nGET /readyz\n```\n")
