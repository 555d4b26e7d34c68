from django.urls import re_path

from config.api.query.views import QueryView

urlpatterns = [re_path(r"^services/core/query/?$", QueryView.as_view(), name="query")]
