"""The stored Idempotency-Key answers, visible (read-only) to staff who may view them."""

from django.contrib import admin

from config.api.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "application", "user", "status", "created_at")
    list_select_related = ("application", "user")
    search_fields = ("key",)
    ordering = ("-created_at",)

    # Protocol state written only with the answer it stores: nobody edits it here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
