"""URL map: each front end mounts its own urls module."""

from django.contrib import admin
from django.urls import include, path

from parley.core import views as core_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("sellercentral/", include("parley.sellercentral.urls")),
    path("buyers/", include("parley.buyers.urls")),
    path("operators/", include("parley.operators.urls")),
    path("account-health/", include("parley.operators.urls_health")),
    path("", include("parley.api.urls")),  # SP-API paths, /auth/o2/token, /api/
    path("", include("parley.core.urls")),
    path("", include("parley.monitoring.urls")),  # /healthz, /readyz, /metrics
]

handler400 = "parley.core.middleware.bad_request"
handler403 = "parley.core.views.forbidden"
handler404 = "parley.core.views.not_found"
handler500 = "parley.core.views.server_error"
