#!/bin/sh
# Container start: bring the schema up to date, then serve. Extra arguments go to gunicorn.
set -eu
# migrate waits for the locks it needs (LOCK_TIMEOUT_MS=0) rather than fail behind a request, and
# a long data migration is not cut short (STATEMENT_TIMEOUT_MS=0).
LOCK_TIMEOUT_MS=0 STATEMENT_TIMEOUT_MS=0 python manage.py migrate --noinput
exec gunicorn config.wsgi \
    --bind "${LISTEN_HOST:-0.0.0.0}:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --access-logfile - \
    "$@"
