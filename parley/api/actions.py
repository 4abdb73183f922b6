"""Writes the API makes: credentials, access tokens, rate buckets, uploads, API sends, webhook endpoints."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from django.db import IntegrityError, transaction

from parley.api import selectors
from parley.api.auth import (
    ACCESS_PREFIX,
    ACCESS_TOKEN_SECONDS,
    CLIENT_ID_PREFIX,
    REFRESH_PREFIX,
    IssuedCredentials,
    digest,
)
from parley.api.models import AccessToken, ApiCredential, RateBucket, UploadDestination
from parley.api.ratelimit import Plan
from parley.conversations import actions as conv_actions
from parley.conversations import files
from parley.conversations.models import Attachment, Message
from parley.core import time
from parley.core.errors import ActionError
from parley.delivery.models import WebhookEndpoint
from parley.marketplace import selectors as ms
from parley.marketplace.models import Seller
from parley.policy.filecheck import inspect_file

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


def do_issue_credentials(
    *, seller: Seller | None, operator: bool = False, name: str = ""
) -> IssuedCredentials:
    """Create a credential; the secrets are returned once and only their hashes are kept."""
    if seller is None and not operator:
        raise ValueError("a credential belongs to a seller or is an operator credential")
    client_id = CLIENT_ID_PREFIX + secrets.token_hex(16)
    client_secret = "amzn1.oa2-cs.v1." + secrets.token_hex(32)
    refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(48)
    ApiCredential.objects.create(
        seller=seller,
        operator=operator,
        name=name,
        client_id=client_id,
        client_secret_hash=digest(client_secret),
        refresh_token_hash=digest(refresh_token),
        created_at=time.now(),
    )
    return IssuedCredentials(client_id, client_secret, refresh_token)


def do_issue_access_token(
    *, credential: ApiCredential, refresh_token: str, now: dt.datetime | None = None
) -> dict[str, object]:
    """A new access token for a credential checked by auth.check_token_request, valid for an hour."""
    at = now or time.now()
    token = ACCESS_PREFIX + secrets.token_urlsafe(48)
    with transaction.atomic():
        AccessToken.objects.filter(credential=credential, expires_at__lt=at).delete()
        AccessToken.objects.create(
            credential=credential,
            token_hash=digest(token),
            created_at=at,
            expires_at=at + dt.timedelta(seconds=ACCESS_TOKEN_SECONDS),
        )
    return {
        "access_token": token,
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
    }


# The buckets are rows rather than entries in a cache because Parley has no shared cache: the
# embedded set-up is one SQLite file, and a rate limit kept per process would multiply with the
# processes. A bucket untouched this long is full under any plan worth having (rate * age >= burst),
# which is what no bucket at all means: such rows are deleted when a new bucket is made, so that
# callers that come once (client addresses) do not pile up.
IDLE = dt.timedelta(days=1)


def do_take_rate_token(*, key: str, operation: str, plan: Plan, now: dt.datetime) -> float:
    """Take one token from `key`'s bucket for `operation`: 0.0 if the request may go ahead, else the
    seconds until a token is back. `key` names the caller: "cred:<id>", "user:<id>", "addr:<ip>"."""
    with transaction.atomic():
        bucket = RateBucket.objects.select_for_update().filter(key=key, operation=operation).first()
        if bucket is None:
            RateBucket.objects.filter(updated_at__lt=now - IDLE).delete()
            try:
                with transaction.atomic():
                    RateBucket.objects.create(
                        key=key, operation=operation, tokens=plan.burst - 1, updated_at=now
                    )
                return 0.0
            except IntegrityError:
                # Another process created it first: take from theirs.
                bucket = RateBucket.objects.select_for_update().get(key=key, operation=operation)
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(float(plan.burst), bucket.tokens + elapsed * plan.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / plan.rate if plan.rate > 0 else 3600.0
        RateBucket.objects.filter(pk=bucket.pk).update(tokens=tokens, updated_at=now)
        return wait


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
    dest = selectors.upload_destination(destination_id)
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
    # Judged again, with the name the message gives it, by the send that uses it: refused there and
    # recorded like the same file sent by email or the web. Until then a refused one is nobody's
    # to download.
    found = inspect_file("upload", data)
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
            quarantined=not found.allowed,
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
    """A send through the API: name the uploads as the message says, then the one send action (which
    judges each file by that name and its content, as for email)."""
    with transaction.atomic():
        for ref in uploads:
            # Only the seller's own unused uploads; anything else is reported by the send action.
            Attachment.objects.filter(public_id=ref.upload_id, seller=seller, message__isnull=True).update(
                filename=conv_actions.clean_filename(ref.filename)
            )
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
