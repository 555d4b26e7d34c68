"""Filters shared by every object's list endpoint."""

import django_filters
from django import forms

from config.api.fields import MAX_KEY


class KeyField(forms.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_KEY)
        super().__init__(**kwargs)


class KeyFilter(django_filters.Filter):
    """`?part=27`: a referenced object's key. Not a whole number within bigint: a 400."""

    field_class = KeyField
