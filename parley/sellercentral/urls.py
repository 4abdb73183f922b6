"""Seller Central URLs."""

from django.urls import path

from parley.sellercentral import views

app_name = "sellercentral"

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/", views.orders, name="orders"),
    path("orders/<str:order_id>/", views.order, name="order"),
    path("orders/<str:order_id>/contact/", views.contact, name="contact"),
    path("orders/<str:order_id>/messages/<str:message_id>/", views.message_outcome, name="message"),
    path("messages/", views.messages_awaiting, name="messages"),
    path("messages/<str:message_id>/reply/", views.reply, name="reply"),
    path("messages/<str:message_id>/no-response/", views.no_response, name="no_response"),
    path("attachments/<str:attachment_id>/", views.attachment, name="attachment"),
    path("settings/messaging/", views.permissions, name="permissions"),
    path("settings/messaging/<int:sender_id>/remove/", views.remove_sender, name="remove_sender"),
    path("settings/messaging/confirm/<str:token>/", views.confirm_sender, name="confirm_sender"),
    path("settings/mail-client/", views.mail_client_help, name="mail_client"),
]
