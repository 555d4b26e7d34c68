import os

from django.core.wsgi import get_wsgi_application

# The harness's environment names the service's settings: this server has its own.
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.perf.drf_plain.settings"
application = get_wsgi_application()
