"""Operator console URLs (staff only)."""

from django.urls import path

from parley.operators import views

app_name = "operators"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("queue/", views.queue, name="queue"),
    path("flags/<int:flag_id>/", views.flag_detail, name="flag"),
    path("violations/<int:violation_id>/", views.violation_detail, name="violation"),
    path("sellers/", views.sellers, name="sellers"),
    path("sellers/<str:seller_id>/", views.seller, name="seller"),
    path("logins/", views.logins, name="logins"),
    path("attachments/<str:attachment_id>/", views.attachment, name="attachment"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/history/", views.history, name="history"),
    path("settings/marketplaces/<str:marketplace_id>/", views.marketplace_edit, name="marketplace"),
    path("settings/reasons/new/", views.reason_edit, name="reason_new"),
    path("settings/reasons/<str:code>/", views.reason_edit, name="reason"),
]
