"""The page at `/` (the admin's "View site"): where the docs, the admin and health are. Exactly `/`:
every other unknown path stays the ia::error 404 of the catch-all route."""

from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.api import errors, responses


@csrf_exempt  # it changes nothing: a POST is its 405, not a CSRF 403
def landing(request):
    if request.method not in ("GET", "HEAD"):
        response = responses.error_response(
            request,
            errors.error(errors.METHOD_NOT_ALLOWED, METHOD=request.method, PATH=request.path),
        )
        response["Allow"] = "GET, HEAD"
        return response
    return render(request, "kitsmith/landing.html")


urlpatterns = [path("", landing, name="landing")]
