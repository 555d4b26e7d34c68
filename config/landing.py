"""The page at `/` (the admin's "View site"): where the docs, the admin and health are. Exactly `/`:
every other unknown path stays the ia::error 404 of the catch-all route."""

from django.shortcuts import render
from django.urls import path

from config.api import responses


@responses.get_or_head_only
def landing(request):
    return render(request, "kitsmith/landing.html")


urlpatterns = [path("", landing, name="landing")]
