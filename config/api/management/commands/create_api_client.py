import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from config.api.oauth import api_client_create


class Command(BaseCommand):
    help = "Create an OAuth2 client (client credentials) acting as USER; prints its id and secret."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username the client acts as")
        parser.add_argument("--name", default="", help="a name for the client")

    def handle(self, *args, user, name, **options):
        try:
            account = get_user_model().objects.get_by_natural_key(user)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {user!r}") from exc
        client_id, secret = api_client_create(user=account, name=name or f"{user} API client")
        self.stdout.write(json.dumps({"client_id": client_id, "client_secret": secret}))
