#!/bin/sh
# Container start: bring the schema up to date, then serve. Extra arguments go to gunicorn.
set -eu
python manage.py migrate --noinput
exec gunicorn config.wsgi \
    --bind "${LISTEN_HOST:-0.0.0.0}:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --access-logfile - \
    "$@"
