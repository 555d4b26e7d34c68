#!/bin/sh
# The image's commands (docker-compose.yml runs each):
#   serve [gunicorn options]  the application (the default): gunicorn on $LISTEN_HOST:$PORT
#   migrate                   bring the schema up to date, once per deployment, before `serve`
#   <command> [arguments]     any manage.py command (createsuperuser, create_api_client, ...)
set -eu
command="${1:-serve}"
[ "$#" -gt 0 ] && shift
case "$command" in
serve)
    # No gunicorn access log: the application writes one line per request (gunicorn.conf.py).
    # Request-line and header limits above the proxy's (docker/nginx.conf: 8k), so a request
    # the proxy passes is never refused with gunicorn's HTML page: the proxy answers those.
    # Workers' heartbeat files in memory: on a container's overlay file system a write to them
    # can stall long enough for the arbiter to kill a healthy worker.
    exec gunicorn config.wsgi \
        --bind "${LISTEN_HOST:-0.0.0.0}:${PORT:-8000}" \
        --workers "${WEB_CONCURRENCY:-2}" \
        --worker-tmp-dir /dev/shm \
        --limit-request-line 8190 \
        --limit-request-field_size 16380 \
        --limit-request-fields 32768 \
        "$@"
    ;;
migrate)
    # Waits for the locks it needs (LOCK_TIMEOUT_MS=0) rather than fail behind a request, and
    # a long data migration is not cut short (STATEMENT_TIMEOUT_MS=0).
    LOCK_TIMEOUT_MS=0 STATEMENT_TIMEOUT_MS=0 exec python manage.py migrate --noinput "$@"
    ;;
*)
    exec python manage.py "$command" "$@"
    ;;
esac
