# Kitsmith: Django + gunicorn on python:3.11-slim. See README "Docker".
FROM python:3.11-slim

# PROMETHEUS_MULTIPROC_DIR: workers' metric files, memory-mapped and written at every request,
# in memory rather than on the container's overlay file system (gunicorn.conf.py makes and
# empties the directory at start).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBUG=0 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    STATIC_MANIFEST=1 \
    DATABASE_URL=sqlite:////app/data/db.sqlite3 \
    PROMETHEUS_MULTIPROC_DIR=/dev/shm/kitsmith-metrics

WORKDIR /app

# A fixed numeric id, so volume ownership and `USER` resolve the same everywhere.
RUN groupadd --system --gid 10001 kitsmith \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin kitsmith

# The pinned dependencies alone first (pyproject.toml's list, read with tomllib): this layer is
# rebuilt only when pyproject.toml changes, not at every change of the code.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md manage.py gunicorn.conf.py ./
COPY config ./config
COPY core ./core
COPY inventory ./inventory
COPY kitcomponents ./kitcomponents
COPY kitting ./kitting
COPY ops ./ops
COPY docker/entrypoint.sh /usr/local/bin/kitsmith-entrypoint

# The project itself, without dependencies (installed above); static files collected once, at
# build time, under content-hashed names (STATIC_MANIFEST=1; the secret key is a throwaway:
# collectstatic signs nothing).
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build ./*.egg-info \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/data \
    && chown 10001:10001 /app/data

USER 10001:10001
EXPOSE 8000

# slim has no curl: ask /healthz (liveness) with the standard library.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]

# `serve` (gunicorn), `migrate`, or any manage.py command: docker/entrypoint.sh.
ENTRYPOINT ["kitsmith-entrypoint"]
CMD ["serve"]
