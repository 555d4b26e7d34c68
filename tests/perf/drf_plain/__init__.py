"""The DRF implementation a team would otherwise write (issue 16): the project's models served by
ModelViewSet + ModelSerializer + DRF pagination, django-filter and django-oauth-toolkit's
OAuth2Authentication, as the DRF documentation teaches, with select_related/prefetch_related
where the documentation adds them and no other optimisation. The benchmark runs it under the same
gunicorn settings and database as the service:

    DJANGO_SETTINGS_MODULE=tests.perf.drf_plain.settings gunicorn tests.perf.drf_plain.wsgi
"""
