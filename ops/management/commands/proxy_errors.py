"""The reverse proxy's refusals as ia::error bodies, generated from config.api.errors.

nginx answers some requests itself, before the application sees them (a request line or header
too long, a body too large, no replica answering). It sends no 408 (a client too slow has its
connection closed) and no 503 (the configuration has no limit_req or limit_conn).
docker/nginx.conf includes kitsmith/errors.conf, which this writes: one `error_page` per status
and an internal location returning the catalogue's body, with nginx's `$request_id` (also sent
to the application as X-Request-Id) as the supportId. The limits in the messages are read from
docker/nginx.conf.

`python manage.py proxy_errors` prints the file; `--write` writes docker/nginx/errors.conf;
`--check` fails when it is out of date (tests/test_proxy.py runs it).
"""

import json
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.api import errors

NGINX_CONF = Path(settings.BASE_DIR) / "docker" / "nginx.conf"
ERRORS_CONF = Path(settings.BASE_DIR) / "docker" / "nginx" / "errors.conf"
SUPPORT_ID = "$request_id"
LOCATION = "/_kitsmith/error/"


def directive(conf: str, name: str) -> list[str]:
    (found,) = re.findall(rf"^\s*{name}\s+([^;]+);", conf, flags=re.MULTILINE)
    return found.split()


def refusals(conf: str) -> list[tuple[int, errors.ApiError]]:
    """(nginx's status, the answer to it), in status order."""
    body_max = directive(conf, "client_max_body_size")[0]
    buffers, line_max = directive(conf, "large_client_header_buffers")
    # The request line and headers share the buffers: each line fits one, all fit all.
    total = f"{int(buffers) * int(line_max.removesuffix('k'))}k"
    return [
        (400, errors.error(errors.BAD_REQUEST, REASON="the proxy could not read the request")),
        # Only its own internal locations, asked for directly: the application's 404s pass.
        (404, errors.error(errors.ROUTE_NOT_FOUND, PATH=LOCATION)),
        # nginx refuses TRACE on every path; no other method reaches it unrouted.
        (405, errors.error(errors.METHOD_NOT_ALLOWED, METHOD="TRACE", PATH="any path")),
        (413, errors.error(errors.PROXY_BODY_TOO_LARGE, MAX=body_max)),
        (414, errors.error(errors.PROXY_LINE_TOO_LONG, MAX=line_max)),
        # 494 is nginx's own "request header too large", sent as 431 (RFC 6585).
        (494, errors.error(errors.PROXY_HEADERS_TOO_LARGE, MAX=line_max, TOTAL=total)),
        # nginx's own "plain HTTP sent to an HTTPS port" (README: TLS terminated in nginx).
        (497, errors.error(errors.BAD_REQUEST, REASON="plain HTTP was sent to the HTTPS port")),
        (500, errors.error(errors.INTERNAL_ERROR)),
        (501, errors.error(errors.PROXY_TRANSFER_CODING)),
        (502, errors.error(errors.PROXY_NO_UPSTREAM, SECONDS=1)),
        (504, errors.error(errors.PROXY_UPSTREAM_TIMEOUT)),
        (505, errors.error(errors.PROXY_HTTP_VERSION)),
    ]


def errors_conf(conf: str) -> str:
    lines = [
        "# Generated from config/api/errors.py by `python manage.py proxy_errors --write`:",
        "# do not edit. Included in docker/nginx.conf's server block.",
    ]
    for status, err in refusals(conf):
        body = json.dumps(errors.error_body(err, SUPPORT_ID), separators=(",", ":"))
        # nginx single-quoted string: its only escapes are \' and \\; `$` starts a variable.
        if "'" in body or "\\" in body or body.count("$") != 1:
            raise ValueError(f"{err.spec.error_id}: the body cannot be quoted for nginx")
        # Per nginx status: two of them (400, 497) answer the same status.
        location = f"{LOCATION}{status}"
        answer = f"={err.status} " if status != err.status else ""
        lines += ["", f"error_page {status} {answer}{location};"]
        lines += [
            f"location = {location} {{",
            "    internal;",
            "    default_type application/json;",
            "    add_header X-Request-Id $request_id always;",
        ]
        if "Retry-After" in err.headers:
            lines.append(f"    add_header Retry-After {err.headers['Retry-After']} always;")
        lines += [f"    return {err.status} '{body}';", "}"]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the reverse proxy's error pages (docker/nginx/errors.conf), --write or --check."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--write", action="store_true", help="write docker/nginx/errors.conf")
        group.add_argument("--check", action="store_true", help="fail if it is out of date")

    def handle(self, *args, write, check, **options):
        text = errors_conf(NGINX_CONF.read_text())
        if write:
            ERRORS_CONF.write_text(text)
            self.stdout.write(f"{ERRORS_CONF} written")
        elif check:
            if not ERRORS_CONF.exists() or ERRORS_CONF.read_text() != text:
                raise CommandError(
                    f"{ERRORS_CONF} is out of date: run python manage.py proxy_errors --write"
                )
        else:
            self.stdout.write(text, ending="")
