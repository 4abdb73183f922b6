"""SP-API paths (Messaging, Solicitations, Uploads, the LWA token endpoint) and /api/ (Parley's own API)."""

from django.urls import path, re_path

from parley.api import docs, spapi_views
from parley.api.v1 import api

ORDER = r"(?P<order_id>[^/]+)"

urlpatterns = [
    path("auth/o2/token", spapi_views.token, name="api-token"),
    re_path(rf"^messaging/v1/orders/{ORDER}$", spapi_views.messaging_actions, name="sp-messaging-actions"),
    re_path(rf"^messaging/v1/orders/{ORDER}/attributes$", spapi_views.attributes, name="sp-attributes"),
    re_path(
        rf"^messaging/v1/orders/{ORDER}/messages/(?P<action>[A-Za-z]+)$",
        spapi_views.messaging_send,
        name="sp-messaging-send",
    ),
    re_path(
        rf"^messaging/v1/orders/{ORDER}/messages/(?P<action>[A-Za-z]+)/schema$",
        spapi_views.messaging_schema,
        name="sp-messaging-schema",
    ),
    re_path(
        rf"^solicitations/v1/orders/{ORDER}$",
        spapi_views.solicitation_actions,
        name="sp-solicitation-actions",
    ),
    re_path(
        rf"^solicitations/v1/orders/{ORDER}/solicitations/productReviewAndSellerFeedback$",
        spapi_views.solicitation_send,
        name="sp-solicitation-send",
    ),
    # The resource is a path itself ("x-amazon-spds-greedy-path-parameter").
    re_path(
        r"^uploads/2020-11-01/uploadDestinations/(?P<resource>.+)$",
        spapi_views.upload_destination,
        name="sp-upload-destination",
    ),
    path(
        "uploads/2020-11-01/files/<str:destination_id>/<str:key>",
        spapi_views.upload_file,
        name="sp-upload-file",
    ),
    path("api/docs/assets/<str:version>/<str:name>", docs.asset, name="api-docs-asset"),
    path("api/", api.urls),
]
