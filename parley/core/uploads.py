"""Request and upload size limits, checked before or while the bytes arrive, never after reading them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language

from parley.core.errors import ActionError

__all__ = ["MAX_FILES", "MAX_FILE_BYTES", "LimitUploads", "read_uploads"]

MAX_FILE_BYTES: Final = 10 * 1024 * 1024  # one attachment; the policy also limits the total to this
MAX_FILES: Final = 10  # files in one form (the policy then allows at most five per message)

_SP_API_PREFIXES = ("/messaging/", "/solicitations/", "/uploads/", "/auth/")
_API_PREFIX = "/api/"
_OVERSIZE = "_parley_oversize_upload"  # request attribute: the name of the file that went over


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _base_name(name: str | None) -> str:
    return (name or "attachment").replace("\\", "/").rsplit("/", 1)[-1][:200] or "attachment"


def too_large_error(name: str | None) -> ActionError:
    shown = _base_name(name)
    return ActionError(
        "attachments.too_large",
        f"{shown} is larger than {_megabytes(MAX_FILE_BYTES)}.",
        f"{shown} 超过 {_megabytes(MAX_FILE_BYTES)}。",
        status=413,
        field="attachments",
    )


def request_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """413 in the caller's format: SP-API's and S3's {"errors": [...]}, /api/'s {"code", ...}, or a page."""
    en = f"The request is larger than {_megabytes(limit)}. Attachments can be at most {_megabytes(MAX_FILE_BYTES)}."
    zh = f"请求超过 {_megabytes(limit)}。附件最大为 {_megabytes(MAX_FILE_BYTES)}。"
    path = request.path
    if path.startswith(_SP_API_PREFIXES):
        body: dict[str, Any] = {"errors": [{"code": "EntityTooLarge", "message": en, "details": ""}]}
        return JsonResponse(body, status=413)
    if path.startswith(_API_PREFIX):
        body = {"code": "request.too_large", "message": en, "details": ""}
        return JsonResponse(body, status=413)
    text = zh if (get_language() or "en").startswith("zh") else en
    return render(request, "core/bad_request.html", {"reason": text}, status=413)


class _StopAtFileLimit(FileUploadHandler):
    """First of the upload handlers: stops the upload as soon as one file passes MAX_FILE_BYTES, so a
    file over the limit is neither held in memory nor spooled to disk in full."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > MAX_FILE_BYTES:
            if self.request is not None:
                setattr(self.request, _OVERSIZE, self.file_name)
            raise StopUpload(connection_reset=False)  # the rest is read and dropped (it is bounded)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file


class LimitUploads:
    """A body declared larger than PARLEY_MAX_REQUEST_BYTES is answered 413 before a byte of it is
    read; a form's files are counted as they arrive (see read_uploads)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body then
        if length > limit:
            return request_too_large(request, limit)
        request.upload_handlers.insert(0, _StopAtFileLimit(request))
        return self.get_response(request)


def read_uploads(request: HttpRequest, field: str = "attachments") -> list[tuple[str, bytes]]:
    """The form's files as (name, bytes): refuses too many files, or one over MAX_FILE_BYTES (whose
    upload was stopped where it went over), before reading any."""
    files = request.FILES.getlist(field)
    oversize = getattr(request, _OVERSIZE, None)
    if oversize is not None:
        raise too_large_error(oversize)
    if len(files) > MAX_FILES:
        raise ActionError(
            "attachments.too_many",
            f"Attach at most {MAX_FILES} files.",
            f"最多只能附加 {MAX_FILES} 个文件。",
            field=field,
        )
    for f in files:
        if (f.size or 0) > MAX_FILE_BYTES:
            raise too_large_error(f.name)
    return [(f.name or "attachment", f.read()) for f in files]
