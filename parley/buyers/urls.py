"""Buyer message center URLs."""

from django.urls import path

from parley.buyers import views

app_name = "buyers"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("orders/<str:order_id>/", views.thread, name="thread"),
    path("orders/<str:order_id>/unread/", views.mark_unread, name="mark_unread"),
    path("messages/<str:message_id>/report/", views.flag, name="flag"),
    path("messages/<str:message_id>/hide/", views.hide, name="hide"),
    path("attachments/<str:attachment_id>/", views.attachment, name="attachment"),
    path("preferences/", views.preferences, name="preferences"),
]
