"""Interactive API docs (Swagger UI) with the assets django-ninja ships, served locally, never from a CDN."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import ninja
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.urls import reverse
from ninja.openapi.docs import Swagger

if TYPE_CHECKING:
    from ninja import NinjaAPI

ASSETS_DIR = Path(ninja.__file__).resolve().parent / "static" / "ninja"
# The asset URLs carry django-ninja's version: new assets get new URLs.
VERSION = ninja.__version__
ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.png", "favicon.svg"}
)


class LocalSwagger(Swagger):
    """Swagger UI rendered from our template; its CSS/JS come from /api/docs/assets/."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": json.dumps(self.settings, indent=1), "api": api, "version": VERSION}
        return render(request, "api/swagger.html", context)


class _Asset(NamedTuple):
    content_type: str
    raw: bytes
    gzipped: bytes
    etag: str


@functools.cache
def _load(name: str) -> _Asset:
    """An asset read and compressed once per process (the Swagger bundle is 1.5 MB, 0.4 MB gzipped)."""
    raw = (ASSETS_DIR / name).read_bytes()
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return _Asset(content_type, raw, gzip.compress(raw, mtime=0), f'"{hashlib.sha256(raw).hexdigest()[:32]}"')


def asset(request: HttpRequest, version: str, name: str) -> HttpResponse:
    if name not in ASSETS or version != VERSION:
        raise Http404("No such asset.")
    found = _load(name)
    if request.headers.get("If-None-Match") == found.etag:
        response: HttpResponse = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(found.gzipped, content_type=found.content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(found.raw, content_type=found.content_type)
    # The URL names the version of the assets, so a browser keeps them until the version changes.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["ETag"] = found.etag
    response["Vary"] = "Accept-Encoding"
    return response


def asset_url(name: str) -> str:
    return reverse("api-docs-asset", args=[VERSION, name])
