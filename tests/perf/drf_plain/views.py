from django.db import connection
from django.db.models import F, Sum
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.errors import DomainError, DomainErrors
from inventory.models import Item, PartInventory
from inventory.services import part_inventory_create
from kitcomponents.models import KitComponent
from kitting.models import PartKit, Requirement
from kitting.selectors import requirement_expressions
from kitting.services import part_kit_issue, part_kit_move_to_inventory
from tests.perf.drf_plain import serializers as s


class QueryCountMiddleware:
    """Measurement, not part of the implementation: X-Queries, the statements a request ran."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = [0]

        def counted(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response["X-Queries"] = str(count[0])
        return response


def healthz(request):
    return HttpResponse("ok")


class Pages(LimitOffsetPagination):
    default_limit = 100


class Plain:
    """settings.REST_FRAMEWORK, named on each view too: DRF reads its defaults into APIView's
    class attributes when it is imported, and the test suite imports these views under the
    service's settings (tests/test_perf_harness.py)."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [DjangoModelPermissions]
    pagination_class = Pages
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    renderer_classes = [JSONRenderer]
    throttle_classes = []


class FieldsMixin(Plain):
    """`?fields=a,b`: the documentation's dynamic-fields serializer keeps those fields."""

    def get_serializer(self, *args, **kwargs):
        fields = self.request.query_params.get("fields")
        if fields:
            kwargs["fields"] = fields.split(",")
        return super().get_serializer(*args, **kwargs)


class ItemViewSet(FieldsMixin, viewsets.ModelViewSet):
    queryset = Item.objects.prefetch_related("kit_components__kit", "kit_components__component")
    serializer_class = s.ItemSerializer
    filterset_fields = ["code", "item_type", "status"]
    ordering_fields = ["key", "code"]


class KitComponentViewSet(FieldsMixin, viewsets.ModelViewSet):
    queryset = KitComponent.objects.select_related("kit", "component")
    serializer_class = s.KitComponentSerializer
    filterset_fields = {"number_of_units": ["exact", "gt", "lt"], "kit": ["exact"]}
    ordering_fields = ["key", "line_number"]


class PartInventoryViewSet(FieldsMixin, viewsets.ModelViewSet):
    queryset = PartInventory.objects.select_related("part")
    serializer_class = s.PartInventorySerializer
    filterset_fields = {
        "key": ["exact"],
        "part__code": ["exact"],
        "serial_number": ["exact"],
        "quantity": ["gt"],
    }
    ordering_fields = ["key"]

    def perform_create(self, serializer):
        # The domain's create (it writes the ledger row too), as the service does.
        try:
            serializer.instance = part_inventory_create(
                user=self.request.user, **serializer.validated_data
            )
        except (DomainError, DomainErrors) as exc:
            raise serializers.ValidationError(str(exc)) from exc


class PartKitViewSet(Plain, viewsets.ModelViewSet):
    queryset = PartKit.objects.all()
    serializer_class = s.PartKitSerializer

    def _move(self, request, service):
        kit = self.get_object()
        serializer = s.KitMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            move = service(
                user=request.user,
                part_kit_key=kit.pk,
                part_inventory_key=serializer.validated_data["part_inventory"].pk,
                quantity=serializer.validated_data["quantity"],
            )
        except (DomainError, DomainErrors) as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return Response(s.KitMoveResultSerializer(move).data)

    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        return self._move(request, part_kit_issue)

    @action(detail=True, methods=["post"], url_path="move-to-inventory")
    def move_to_inventory(self, request, pk=None):
        return self._move(request, part_kit_move_to_inventory)


class ShortageList(Plain, generics.ListAPIView):
    """What every open run is short of, by part: the requirement view's rows grouped by part."""

    serializer_class = s.ShortageSerializer
    # The shortage rule is the domain's (kitting.selectors), as a team would call its domain.
    queryset = (
        Requirement.objects.annotate(short=requirement_expressions()["short_quantity"])
        .filter(short__gt=0)
        .values(part_code=F("part__code"))
        .annotate(short_quantity=Sum("short"))
        .order_by("part_code")
    )
    filter_backends = []
