"""What every stored object has: a key, a version (the ETag), and who changed it when."""

from django.conf import settings
from django.db import models

from core.versions import etag


def actor(user):
    """The user to record in the audit stamps (None for anonymous callers)."""
    return user if getattr(user, "is_authenticated", False) else None


class AuditedModel(models.Model):
    key = models.BigAutoField(primary_key=True)
    version = models.PositiveBigIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    modified_at = models.DateTimeField(auto_now=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        # **kwargs: newer Django passes more (6.1's fetch_mode), warning overrides without it.
        instance = super().from_db(db, field_names, values, **kwargs)
        # What the row held when read (Django's documented hook for telling changes later).
        instance.stored_values = dict(zip(field_names, values, strict=True))
        return instance

    def has_changes(self) -> bool:
        """Whether a field read from the row now holds another value; a row not read from the
        database (a new one) always has."""
        stored = getattr(self, "stored_values", None)
        if stored is None:
            return True
        return any(getattr(self, name) != value for name, value in stored.items())

    @property
    def etag(self) -> str:
        return etag(self.version)

    def stamp(self, user, *, created: bool = False) -> None:
        """Record who changed the row; the caller saves it under its row lock."""
        who = actor(user)
        if created:
            self.created_by = who
        else:
            self.version += 1
        self.modified_by = who
