"""The stored Idempotency-Key answers, visible (read-only) to staff who may view them."""

from django.contrib import admin

from config.api.models import IdempotencyKey
from core.admin import ReadOnlyAdmin


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    # Protocol state written only with the answer it stores: nobody edits it here.
    list_display = ("key", "application", "user", "status", "created_at")
    list_select_related = ("application", "user")
    search_fields = ("key",)
    ordering = ("-created_at",)
