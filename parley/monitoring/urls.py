"""Health and metrics endpoints, at the root where load balancers and Prometheus look for them."""

from django.urls import path

from parley.monitoring import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
]
