"""The OAuth2 Application admin (DOT's APPLICATION_ADMIN_CLASS): DOT's, refusing a client secret
too short to have been generated. A person's short secret would be checked with PBKDF2 (about
240 ms) while an unknown client id costs one HMAC: timing would tell that client id apart.

A module of its own: oauth2_provider.admin imports it while being imported itself."""

from django import forms
from oauth2_provider.admin import ApplicationAdmin as DotApplicationAdmin
from oauth2_provider.forms import ApplicationForm as DotApplicationForm

from config.api.hashers import GENERATED_SECRET_MIN_LENGTH, is_generated


class ApplicationForm(DotApplicationForm):
    def clean_client_secret(self):
        secret = self.cleaned_data.get("client_secret", "")
        # A stored hash, shown when the application is changed, is as long as a generated secret.
        if secret and not is_generated(secret):  # none: a public client
            raise forms.ValidationError(
                f"A client secret has at least {GENERATED_SECRET_MIN_LENGTH} characters: keep "
                "the generated one, or run manage.py create_api_client --rotate."
            )
        return secret


class ApplicationAdmin(DotApplicationAdmin):
    form = ApplicationForm
