"""SP-API Uploads: an upload destination, and the PUT that stores the file."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from parley.api import actions
from parley.api.spapi_views.framework import Ctx, json_response, sp_operation
from parley.core.errors import ActionError

# --- Uploads -----------------------------------------------------------------------------------------


@sp_operation("createUploadDestinationForResource", content_type="application/json")
def upload_destination(ctx: Ctx, resource: str) -> tuple[int, dict[str, Any]]:
    q = ctx.request.GET
    new = actions.check_create_upload_destination(
        seller=ctx.seller,
        resource=resource,
        content_md5=q.get("contentMD5", ""),
        content_type=q.get("contentType", ""),
        now=ctx.now,
    )
    dest = new.destination
    url = ctx.request.build_absolute_uri(f"/uploads/2020-11-01/files/{dest.id}/{new.upload_key}")
    headers = {"Content-MD5": dest.content_md5}
    if dest.content_type:
        headers["Content-Type"] = dest.content_type
    return 201, {"payload": {"uploadDestinationId": dest.id, "url": url, "headers": headers}}


@csrf_exempt
def upload_file(request: HttpRequest, destination_id: str, key: str) -> HttpResponse:
    """The upload URL (S3's role): PUT the bytes; 200 with an ETag, or an S3-style error."""
    request_id = str(uuid.uuid4())
    if request.method != "PUT":
        status, body = 405, {"errors": [{"code": "MethodNotAllowed", "message": "Use PUT.", "details": ""}]}
    elif int(request.META.get("CONTENT_LENGTH") or 0) > actions.MAX_UPLOAD_BYTES:
        status, body = (
            413,
            {"errors": [{"code": "EntityTooLarge", "message": "The file is larger than 10 MB."}]},
        )
    else:
        data = request.read(actions.MAX_UPLOAD_BYTES + 1)
        try:
            att = actions.check_store_upload(destination_id=destination_id, upload_key=key, data=data)
        except ActionError as e:
            status, body = e.status, {"errors": [{"code": e.code, "message": e.text(), "details": e.field}]}
        else:
            response = HttpResponse(b"", status=200)
            response["ETag"] = f'"{att.sha256[:32]}"'
            response["x-amzn-RequestId"] = request_id
            return response
    response = json_response(status, body, "application/json")
    response["x-amzn-RequestId"] = request_id
    if status == 405:
        response["Allow"] = "PUT"
    return response
