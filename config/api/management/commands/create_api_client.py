import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from oauth2_provider.models import get_application_model

from config.api.oauth import api_client_create, api_client_rotate


class Command(BaseCommand):
    help = (
        "Create an OAuth2 client (client credentials) acting as USER, or give client CLIENT_ID a "
        "new secret (--rotate); prints its id and secret (null when --keep kept a client)."
    )

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="username the new client acts as")
        # A secret stored with PBKDF2 (older, or typed in) costs PBKDF2 per token request until
        # replaced by a generated one.
        who.add_argument("--rotate", metavar="CLIENT_ID", help="the client to give a new secret")
        parser.add_argument("--name", default="", help="a name for the new client")
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument(
            "--keep",
            action="store_true",
            help="reuse USER's client of this name if there is one (its secret is not known "
            "again: printed as null)",
        )
        existing.add_argument(
            "--replace",
            action="store_true",
            help="delete USER's clients of this name (and their tokens) before creating one",
        )

    @transaction.atomic
    def handle(self, *args, user, rotate, name, keep, replace, **options):
        if rotate is not None:
            if keep or replace:
                raise CommandError("--keep and --replace name a client to create, not --rotate")
            try:
                client_id, secret = api_client_rotate(client_id=rotate)
            except LookupError as exc:
                raise CommandError(f"No client with id {rotate!r}") from exc
        else:
            try:
                account = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"No user named {user!r}") from exc
            name = name or f"{user} API client"
            named = get_application_model().objects.filter(user=account, name=name)
            kept = named.order_by("pk").values_list("client_id", flat=True).first()
            if keep and kept is not None:
                client_id, secret = kept, None
            else:
                if replace:
                    named.delete()  # its tokens go with it
                client_id, secret = api_client_create(user=account, name=name)
        self.stdout.write(json.dumps({"client_id": client_id, "client_secret": secret}))
