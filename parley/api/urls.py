"""SP-API paths (Messaging, Solicitations, Uploads, the LWA token endpoint) and /api/ (Parley's own API)."""

from django.urls import path, re_path

from parley.api import docs
from parley.api.spapi_views import messaging, solicitations, tokens, uploads
from parley.api.v1.app import api

ORDER = r"(?P<order_id>[^/]+)"

urlpatterns = [
    path("auth/o2/token", tokens.token, name="api-token"),
    re_path(rf"^messaging/v1/orders/{ORDER}$", messaging.messaging_actions, name="sp-messaging-actions"),
    re_path(rf"^messaging/v1/orders/{ORDER}/attributes$", messaging.attributes, name="sp-attributes"),
    re_path(
        rf"^messaging/v1/orders/{ORDER}/messages/(?P<action>[A-Za-z]+)$",
        messaging.messaging_send,
        name="sp-messaging-send",
    ),
    re_path(
        rf"^messaging/v1/orders/{ORDER}/messages/(?P<action>[A-Za-z]+)/schema$",
        messaging.messaging_schema,
        name="sp-messaging-schema",
    ),
    re_path(
        rf"^solicitations/v1/orders/{ORDER}$",
        solicitations.solicitation_actions,
        name="sp-solicitation-actions",
    ),
    re_path(
        rf"^solicitations/v1/orders/{ORDER}/solicitations/productReviewAndSellerFeedback$",
        solicitations.solicitation_send,
        name="sp-solicitation-send",
    ),
    # The resource is a path itself ("x-amazon-spds-greedy-path-parameter").
    re_path(
        r"^uploads/2020-11-01/uploadDestinations/(?P<resource>.+)$",
        uploads.upload_destination,
        name="sp-upload-destination",
    ),
    path(
        "uploads/2020-11-01/files/<str:destination_id>/<str:key>",
        uploads.upload_file,
        name="sp-upload-file",
    ),
    path("api/docs/assets/<str:version>/<str:name>", docs.asset, name="api-docs-asset"),
    path("api/", api.urls),
]
