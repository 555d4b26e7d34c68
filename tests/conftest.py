"""The suite's fixtures live in tests/support/fixtures.py and in the topic modules of the toolkit
(tests/support/<topic>.py); this file only registers them."""

import pytest

# Plain asserts in the toolkit report their operands like asserts in the test modules do.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.fixtures",
    "tests.support.kitting_workflows",
    "tests.support.openapi",
    "tests.support.part_inventory",
    "tests.support.protocol",
    "tests.support.query",
    "tests.support.server",
    "tests.support.spreadsheets",
]
