"""Demo data for `make run`: a few items, a kit with components, a warehouse, an admin user and
an API client. Safe to run again: existing rows are kept; credentials are renewed and printed."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from config.api.oauth import api_client_create
from inventory import services as inventory_services
from inventory.models import Item, Warehouse
from kitcomponents import services as kit_services
from kitcomponents.models import KitComponent

ITEMS = [
    {"code": "Kit_1", "name": "Printer starter kit", "item_type": "kit"},
    {
        "code": "Prnt_Paper",
        "name": "Paper for Printer",
        "item_type": "inventory",
        "unit_of_measure": "10 Pack",
        "standard_cost": 100,
    },
    {
        "code": "Prnt_Ink",
        "name": "Ink cartridge",
        "item_type": "inventory",
        "standard_cost": "24.5",
        "enable_lot_category": True,
    },
    {
        "code": "Prnt_1000",
        "name": "Printer 1000",
        "item_type": "inventory",
        "standard_cost": "125.67",
        "enable_serial_no": True,
        "serial_mask": "PR-#####",
    },
    {"code": "Setup_Svc", "name": "Setup service", "item_type": "nonInventory"},
]
COMPONENTS = [("Prnt_1000", 1), ("Prnt_Paper", 2), ("Prnt_Ink", 4), ("Setup_Svc", 1)]


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

        items = {}
        for spec in ITEMS:
            item = Item.objects.filter(code=spec["code"]).first()
            items[spec["code"]] = item or inventory_services.item_create(user=admin, **spec)
        if not Warehouse.objects.filter(code="WH-MAIN").exists():
            inventory_services.warehouse_create(user=admin, code="WH-MAIN", name="Main warehouse")
        kit = items["Kit_1"]
        for code, units in COMPONENTS:
            if not KitComponent.objects.filter(kit=kit, component=items[code]).exists():
                kit_services.kit_component_create(
                    user=admin, kit=kit, component=items[code], number_of_units=units
                )
        client_id, secret = api_client_create(user=admin, name="Demo API client")

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
