"""Factories for tests and benchmarks: small functions that build valid objects with overrides."""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import zipfile
from typing import Any

from django.contrib.auth.models import User
from PIL import Image
from pypdf import PdfWriter

from parley.conversations import files
from parley.conversations.models import Attachment
from parley.core import time
from parley.marketplace import actions as market_actions
from parley.marketplace.models import (
    AuthorizedSender,
    Buyer,
    Marketplace,
    Order,
    OrderItem,
    ProductCategory,
    Seller,
)
from parley.policy.models import ContactReason

_seq = itertools.count(1)
PASSWORD = "parley-test-pw"  # noqa: S105 - test accounts only


def marketplace(**kw: Any) -> Marketplace:
    kw.setdefault("id", "ATVPDKIKX0DER")
    kw.setdefault("name", "Demo Marketplace")
    obj, _ = Marketplace.objects.get_or_create(id=kw.pop("id"), defaults=kw)
    return obj


def user(username: str | None = None, **kw: Any) -> User:
    username = username or f"user{next(_seq)}"
    return User.objects.create_user(username=username, password=PASSWORD, **kw)


def seller(*, login: bool = True, senders: tuple[str, ...] = (), **kw: Any) -> Seller:
    n = next(_seq)
    kw.setdefault("id", f"A{n:013d}")
    kw.setdefault("display_name", f"Seller {n}")
    kw.setdefault("email", f"seller{n}@seller.example")
    if login and "user" not in kw:
        kw["user"] = user(f"seller{n}")
    obj = Seller.objects.create(**kw)
    for address in senders:
        AuthorizedSender.objects.create(seller=obj, email=address, confirmed_at=time.now())
    return obj


def buyer(*, login: bool = True, **kw: Any) -> Buyer:
    n = next(_seq)
    kw.setdefault("id", f"B{n:013d}")
    kw.setdefault("name", f"Buyer {n}")
    kw.setdefault("email", f"buyer{n}@buyer.example")
    if login and "user" not in kw:
        kw["user"] = user(f"buyer{n}")
    return Buyer.objects.create(**kw)


def order(
    *,
    seller: Seller | None = None,
    buyer: Buyer | None = None,
    category: str = "electronics",
    items: int = 1,
    **kw: Any,
) -> Order:
    n = next(_seq)
    now = time.now()
    status = kw.setdefault("status", Order.Status.UNSHIPPED)
    kw.setdefault("id", f"113-{n % 10**7:07d}-{(n * 7919) % 10**7:07d}")
    kw.setdefault("marketplace", marketplace())
    kw.setdefault("purchased_at", now - dt.timedelta(days=10))
    if status in ("Shipped", "Delivered", "Returned", "PartiallyShipped"):
        kw.setdefault("shipped_at", now - dt.timedelta(days=8))
    if status in ("Delivered", "Returned"):
        kw.setdefault("delivered_at", now - dt.timedelta(days=6))
    obj = Order.objects.create(
        seller=seller or globals()["seller"](), buyer=buyer or globals()["buyer"](), **kw
    )
    cat = ProductCategory.objects.get(code=category)
    for i in range(items):
        OrderItem.objects.create(
            order=obj, sku=f"SKU-{n}-{i}", title=f"Item {n}-{i}", quantity=1, category=cat
        )
    return obj


@functools.cache
def pdf_bytes(pad: int = 0) -> bytes:
    """A real one-page PDF (pypdf opens it); `pad` bytes of metadata make it larger."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if pad:
        writer.add_metadata({"/Padding": "x" * pad})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@functools.cache
def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 4)) -> bytes:
    """A real image (Pillow verifies it) in `fmt`: PNG, JPEG, GIF or WEBP."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def zip_bytes(name: str, data: bytes) -> bytes:
    """A ZIP archive holding one file (to append to another file: a polyglot)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(name, data)
    return out.getvalue()


# The start of a Windows program: the MZ header and its DOS stub's sentence.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00"
    + b"\x00" * 56
    + b"This program cannot be run in DOS mode.\r\n"
    + b"\x00" * 200
)


def attachment(
    *, data: bytes, filename: str = "file.pdf", content_type: str = "application/pdf", **kw: Any
) -> Any:
    """An Attachment row with its bytes in the attachments storage, as the send actions keep them."""
    sha256, name = files.put(data)
    return Attachment.objects.create(
        filename=filename, content_type=content_type, size=len(data), sha256=sha256, file=name, **kw
    )


def ensure_seeded() -> None:
    """Seed when the catalog is empty (a transactional test flushes what the migration wrote)."""
    if not ContactReason.objects.exists() or not ProductCategory.objects.exists():
        market_actions.do_seed_catalog()
