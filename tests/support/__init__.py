"""The one test toolkit: error bodies (errors), references and envelopes (refs), the parallel
runner (parallel), a gunicorn server on the test database (server), the shared fixtures
(fixtures, registered by tests/conftest.py) and the generated object tests (objects)."""
