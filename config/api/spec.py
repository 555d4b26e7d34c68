"""One description per object, read by every part of the protocol layer.

Seed of the object spec (issue 10): the API name under which an object's serializer renders a model
field. The full spec (columns, references, lists, groups, prefetch plan, members) grows here.
"""

from rest_framework import serializers


def api_name(serializer_class: type[serializers.Serializer], model_field: str) -> str:
    """The API member (dotted inside groups: `tracking.enableSerialNo`) that renders `model_field`;
    the model field itself when the serializer renders it under no other name."""
    return _api_names(serializer_class).get(model_field, model_field)


_NAMES: dict[type, dict[str, str]] = {}


def _api_names(serializer_class: type[serializers.Serializer]) -> dict[str, str]:
    if serializer_class not in _NAMES:
        names: dict[str, str] = {}
        _collect(serializer_class(), "", names)
        _NAMES[serializer_class] = names
    return _NAMES[serializer_class]


def _collect(serializer: serializers.Serializer, prefix: str, names: dict[str, str]) -> None:
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.Serializer) and field.source == "*":
            _collect(field, f"{prefix}{name}.", names)
        elif field.source and field.source != "*":
            names.setdefault(field.source.split(".")[0], prefix + name)
