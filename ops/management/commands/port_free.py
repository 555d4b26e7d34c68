"""`make run`'s first step: a taken port stops it before the database is touched."""

import socket

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Fail unless HOST:PORT can be bound (nothing else is listening there)."

    def add_arguments(self, parser):
        parser.add_argument("host")
        parser.add_argument("port", type=int)

    def handle(self, *args, host, port, **options):
        # SO_REUSEADDR as gunicorn binds: a port in TIME_WAIT is free, a listening one is not.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CommandError(
                    f"Port {port} on {host} is taken ({exc.strerror}): nothing was started or "
                    f"changed. Stop what is serving there, or `make run PORT=...`."
                ) from exc
