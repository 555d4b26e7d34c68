import django_filters

from config.api.filters import KeyFilter
from kitting.models import PartKit, PartKitStatus, Run, RunStatus


class RunFilter(django_filters.FilterSet):
    id = django_filters.CharFilter(field_name="code")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    part = KeyFilter(field_name="part_id")

    class Meta:
        model = Run
        fields = ["id", "status", "part"]


class PartKitFilter(django_filters.FilterSet):
    run = KeyFilter(field_name="run_id")
    status = django_filters.ChoiceFilter(choices=PartKitStatus.choices)

    class Meta:
        model = PartKit
        fields = ["run", "status"]
