"""`make run`'s start: the demo data (kitting.demo), an admin user and an API client. Safe to run
again: existing rows are kept; credentials are renewed and printed."""

import json
import secrets
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from kitting.demo import demo_data_load


class Command(BaseCommand):
    help = "Load demo data and print admin and API client credentials."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")

    @transaction.atomic
    def handle(self, *args, port, **options):
        User = get_user_model()
        admin, _ = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        password = secrets.token_urlsafe(12)
        admin.set_password(password)
        admin.save()

        demo_data_load(user=admin)
        # The protocol's own command makes the client: the domain does not import the protocol.
        answer = StringIO()
        call_command("create_api_client", user="admin", name="Demo API client", stdout=answer)
        client = json.loads(answer.getvalue())
        client_id, secret = client["client_id"], client["client_secret"]

        base = f"http://127.0.0.1:{port}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Kitsmith demo data loaded.",
                    f"  Admin:       {base}/admin/   user admin / password {password}",
                    f"  API:         {base}/objects/inventory-control/kit-component",
                    f"  Swagger UI:  {base}/api/docs/",
                    f"  ReDoc:       {base}/api/redoc/",
                    f"  OpenAPI:     {base}/api/schema/",
                    f"  API client:  client_id {client_id}",
                    f"               client_secret {secret}",
                    f"  Get a token: curl -s -u '{client_id}:{secret}' "
                    f"-d grant_type=client_credentials {base}/oauth2/token",
                    "",
                ]
            )
        )
