"""The seller's Account Health page, mounted at /account-health/."""

from django.urls import path

from parley.operators import views_health

urlpatterns = [path("", views_health.account_health, name="account_health")]
