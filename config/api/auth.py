"""Bearer tokens from django-oauth-toolkit; the 401 challenge names the Bearer scheme."""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication


class BearerAuthentication(OAuth2Authentication):
    www_authenticate_realm = "kitsmith"
