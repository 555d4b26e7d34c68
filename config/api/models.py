"""The protocol layer's own state: the stored answers of keyed requests (contract 12.1)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from oauth2_provider.settings import oauth2_settings


class IdempotencyKey(models.Model):
    """The first answer to a request sent with an `Idempotency-Key`, per API client and user,
    written in the same transaction as the request's own writes (config.api.idempotency)."""

    # The API client (None for a session), and the user: together the key's scope.
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=256)
    # SHA-256 of the method, the path without /ia/api/v1 and the canonical JSON body.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True)
    # The answer's Content-Type, Location and ETag, replayed with it.
    headers = models.JSONField(default=dict, blank=True)
    # When the first answer was given: replayed within 48 hours, purged after 60 days.
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "idempotency key"
        constraints = [
            # NULLs are distinct in a unique constraint: a session's keys need their own.
            models.UniqueConstraint(
                fields=["application", "user", "key"],
                condition=Q(application__isnull=False),
                name="idempotency_key_unique_per_client",
            ),
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=Q(application__isnull=True),
                name="idempotency_key_unique_per_session_user",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return self.key
