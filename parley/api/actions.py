"""Writes the API makes: upload destinations and uploaded files, API sends, webhook endpoints."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from django.db import transaction

from parley.api.auth import digest
from parley.api.models import UploadDestination
from parley.conversations import actions as conv_actions
from parley.conversations import files
from parley.conversations.models import Attachment, Message
from parley.core import time
from parley.core.errors import ActionError
from parley.delivery.models import WebhookEndpoint
from parley.marketplace import selectors as ms
from parley.marketplace.models import Seller
from parley.policy.filecheck import inspect_file, name_problem, safe_name

MAX_UPLOAD_BYTES = conv_actions.MAX_FILE_BYTES
UPLOAD_TTL = dt.timedelta(minutes=15)  # like the X-Amz-Expires=900 of Amazon's pre-signed URLs
# The types the policy lets a message carry (PDF, images, plain text): refused at upload already.
_MESSAGING_RESOURCE = re.compile(r"^/?messaging/v1/orders/([^/]+)/messages/([A-Za-z]+)/?$")
EVENTS = (
    "buyer_message.received",
    "message.blocked",
    "message.bounced",
    "message.flagged",
    "seller.standing_changed",
)


@dataclass(frozen=True)
class NewDestination:
    destination: UploadDestination
    upload_key: str  # the secret part of the URL, returned once


def check_create_upload_destination(
    *, seller: Seller, resource: str, content_md5: str, content_type: str = "", now: dt.datetime | None = None
) -> NewDestination:
    """createUploadDestinationForResource: only Messaging resources for the seller's own orders."""
    m = _MESSAGING_RESOURCE.match(resource)
    if m is None:
        raise ActionError(
            "InvalidInput",
            "Only Messaging API resources (messaging/v1/orders/{amazonOrderId}/messages/{action})"
            " are supported.",
            "仅支持消息 API 资源（messaging/v1/orders/{amazonOrderId}/messages/{action}）。",
            field="resource",
        )
    ms.access_order_for_seller(seller, m.group(1))  # 404 for another seller's order
    if "%" in content_md5:
        # python-amazon-sp-api URL-quotes the digest before its HTTP client quotes the query again;
        # Base64 has no "%", so one more unquote is always safe.
        content_md5 = unquote(content_md5)
    if not content_md5 or not _md5_ok(content_md5):
        raise ActionError(
            "InvalidInput",
            "contentMD5 must be the Base64-encoded MD5 digest of the file.",
            "contentMD5 必须是文件 MD5 摘要的 Base64 编码。",
            field="contentMD5",
        )
    at = now or time.now()
    key = secrets.token_urlsafe(32)
    dest = UploadDestination.objects.create(
        seller=seller,
        resource=resource.strip("/"),
        content_md5=content_md5.strip(),
        content_type=content_type[:100],
        upload_key_hash=digest(key),
        created_at=at,
        expires_at=at + UPLOAD_TTL,
    )
    return NewDestination(dest, key)


def _md5_ok(value: str) -> bool:
    try:
        return len(base64.b64decode(value.strip(), validate=True)) == 16
    except ValueError:
        return bool(re.fullmatch(r"[0-9a-fA-F]{32}", value.strip()))


def check_store_upload(
    *, destination_id: str, upload_key: str, data: bytes, now: dt.datetime | None = None
) -> Attachment:
    """The PUT to an upload URL: check key, expiry, digest, size and type (sniffed), keep the file."""
    at = now or time.now()
    dest = UploadDestination.objects.filter(id=destination_id).first()
    if dest is None or not secrets.compare_digest(dest.upload_key_hash, digest(upload_key)):
        raise ActionError("AccessDenied", "Access Denied", "拒绝访问", status=403)
    if dest.expires_at <= at:
        raise ActionError("AccessDenied", "Request has expired", "请求已过期", status=403)
    if dest.uploaded_at is not None:
        raise ActionError(
            "AccessDenied", "This upload destination was already used.", "此上传地址已被使用。", status=403
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise ActionError(
            "EntityTooLarge", "The file is larger than 10 MB.", "文件超过 10 MB。", status=413, field="file"
        )
    if not data:
        raise ActionError("InvalidInput", "The file is empty.", "文件为空。", field="file")
    md5 = hashlib.md5(data, usedforsecurity=False).digest()
    if dest.content_md5 not in (base64.b64encode(md5).decode(), md5.hex(), md5.hex().upper()):
        raise ActionError(
            "BadDigest",
            "The MD5 of the uploaded file does not match the contentMD5 given for the destination.",
            "上传文件的 MD5 与创建上传地址时给出的 contentMD5 不一致。",
        )
    found = inspect_file("upload", data)  # named later, by the message that uses it
    if not found.allowed:
        raise ActionError("UnsupportedMediaType", found.en, found.zh, status=415, field="file")
    content_type = found.content_type
    sha256, name = files.put(data)  # durable before the row naming it commits
    with transaction.atomic():
        updated = UploadDestination.objects.filter(pk=dest.pk, uploaded_at__isnull=True).update(
            uploaded_at=at
        )
        if not updated:
            raise ActionError(
                "AccessDenied",
                "This upload destination was already used.",
                "此上传地址已被使用。",
                status=403,
            )
        return Attachment.objects.create(
            public_id=dest.id,
            message=None,
            seller=dest.seller,
            filename="upload",  # named by the message that uses it (its fileName)
            content_type=content_type,
            size=len(data),
            sha256=sha256,
            file=name,
        )


@dataclass(frozen=True)
class UploadRef:
    upload_id: str
    filename: str


def check_send_api_message(
    *,
    seller: Seller,
    order_id: str,
    reason_code: str | None,
    body: str,
    uploads: Sequence[UploadRef] = (),
    in_reply_to_id: str | None = None,
    now: dt.datetime | None = None,
) -> Message:
    """A send through the API: name the uploads as the message says, then the one send action."""
    with transaction.atomic():
        for ref in uploads:
            # Only the seller's own unused uploads; anything else is reported by the send action.
            upload = Attachment.objects.filter(
                public_id=ref.upload_id, seller=seller, message__isnull=True
            ).first()
            if upload is None:
                continue
            refused = name_problem(ref.filename)
            if refused is not None:
                raise ActionError("attachments.name", refused.en, refused.zh, status=415, field="attachments")
            # A safe name, its extension matching the type found in the bytes at upload.
            upload.filename = safe_name(conv_actions.clean_filename(ref.filename), upload.content_type)
            upload.save(update_fields=["filename"])
        return conv_actions.check_send_message(
            request=conv_actions.SendRequest(
                channel=Message.Channel.API,
                sender=seller,
                order_id=order_id,
                reason_code=reason_code,
                body=body,
                upload_ids=[u.upload_id for u in uploads],
                in_reply_to_id=in_reply_to_id,
                now=now,
            )
        ).message


# http(s), a host, no whitespace and no control characters anywhere. The API's schema publishes the same
# pattern, so what it documents as valid is exactly what is accepted (\s alone differs between regex
# dialects for the C0/C1 controls).
WEBHOOK_URL = r"^https?://[^\s/?#\x00-\x1f\x7f-\x9f]+[^\s\x00-\x1f\x7f-\x9f]*$"


def check_create_webhook(
    *, seller: Seller, url: str, events: Sequence[str] = (), now: dt.datetime | None = None
) -> WebhookEndpoint:
    if not isinstance(url, str) or not re.fullmatch(WEBHOOK_URL, url) or len(url) > 500:
        raise ActionError(
            "webhook.url_invalid",
            "The webhook URL must be an http:// or https:// URL.",
            "Webhook URL 必须是 http:// 或 https:// 地址。",
            field="url",
        )
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise ActionError(
            "webhook.event_unknown",
            f"Unknown event(s): {', '.join(unknown)}. Known: {', '.join(EVENTS)}.",
            f"未知事件：{', '.join(unknown)}。可用事件：{', '.join(EVENTS)}。",
            field="events",
        )
    return WebhookEndpoint.objects.create(
        seller=seller,
        url=url,
        secret="whsec_" + secrets.token_urlsafe(32),
        events=sorted(set(events)),
        created_at=now or time.now(),
    )


def do_delete_webhook(*, endpoint: WebhookEndpoint) -> None:
    # Pending deliveries go with it: nobody is listening there any more.
    endpoint.delete()
