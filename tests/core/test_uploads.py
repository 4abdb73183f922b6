"""Request and upload size limits over real HTTP against waitress, and in Django for any other server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from django.conf import settings
from django.test import Client

from parley import testing
from parley.conversations.models import Message
from parley.core.uploads import MAX_FILE_BYTES
from parley.runner import serve, web_server

MB = 1024 * 1024
CSRF = "a" * 32


@pytest.fixture
def web(transactional_db: None) -> Iterator[str]:
    server = web_server("127.0.0.1", 0)
    stop = serve(server)
    yield f"127.0.0.1:{server.effective_port}"
    stop()


def declared(address: str, method: str, path: str, length: int, head: str = "") -> tuple[int, bytes, float]:
    """Send only the headers and 64 KiB of a body declared `length` bytes long; the status line and
    how much of the declared body was sent when the answer came (it comes before the rest is)."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {length}\r\n{head}\r\n".encode()
        )
        s.sendall(b"x" * 65536)
        answer = s.recv(65536)
    status = int(answer.split(b" ", 2)[1])
    return status, answer, 65536 / length


def test_waitress_refuses_a_declared_120_mb_body_without_reading_it(web: str) -> None:
    for method, path in [
        ("POST", "/buyers/orders/113-0000000-0000000/"),  # the buyer message center
        ("POST", "/sellercentral/orders/113-0000000-0000000/contact/"),  # Contact Buyer
        ("PUT", "/uploads/2020-11-01/files/dest/key"),  # SP-API uploads
        ("POST", "/api/v1/messages/msg_x/reply"),
    ]:
        status, answer, sent = declared(web, method, path, 120 * MB)
        assert status == 413, answer
        assert b"Request Entity Too Large" in answer
        assert sent < 0.001  # answered on the headers, with almost all of the 120 MB never sent


def test_waitress_counts_a_chunked_body_as_it_arrives(web: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(13):
            yield b"x" * MB

    r = requests.post(f"http://{web}/buyers/orders/113-0000000-0000000/", data=chunks(), timeout=60)
    assert r.status_code == 413


def _multipart(file_bytes: int, body: str = "Here it is.", **fields: str) -> tuple[bytes, str]:
    boundary = "----parleyboundary"
    extra = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    data = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{CSRF}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="body"\r\n\r\n'
        f"{body}\r\n"
        f"{extra}"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="attachments"; filename="scan.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    data += b"a" * file_bytes + f"\r\n--{boundary}--\r\n".encode()
    return data, f"multipart/form-data; boundary={boundary}"


def test_buyer_center_file_over_10_mb_is_413_and_not_stored(web: str) -> None:
    buyer = testing.buyer()
    order = testing.order(buyer=buyer)
    login = Client()
    login.force_login(buyer.user)  # type: ignore[arg-type]
    cookies = {"sessionid": login.cookies["sessionid"].value, "csrftoken": CSRF}
    url = f"http://{web}/buyers/orders/{order.id}/"
    data, ctype = _multipart(MAX_FILE_BYTES + 1)
    assert len(data) < settings.MAX_REQUEST_BYTES  # within the web server's limit: Django's to judge
    r = requests.post(url, data=data, headers={"Content-Type": ctype, "Referer": url}, cookies=cookies)
    assert r.status_code == 413
    assert "scan.txt is larger than 10 MB." in r.text
    assert not Message.objects.exists()
    data, ctype = _multipart(1000)
    r = requests.post(url, data=data, headers={"Content-Type": ctype, "Referer": url}, cookies=cookies)
    assert r.status_code == 200, r.text  # after the redirect to the thread
    assert Message.objects.get().attachments.get().size == 1000


@pytest.mark.django_db
def test_django_refuses_a_declared_large_body_before_reading(settings: object) -> None:
    # Behind another WSGI server, Django's own check answers: by the declared length, before reading.
    c = Client()
    big = str(settings.MAX_REQUEST_BYTES + 1)  # type: ignore[attr-defined]
    r = c.post(
        "/buyers/orders/x/", data=b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=big
    )
    assert r.status_code == 413
    assert "The request is larger than 12 MB. Attachments can be at most 10 MB." in r.content.decode()
    r = c.put("/uploads/2020-11-01/files/dest/key", data=b"", CONTENT_LENGTH=big)
    assert (r.status_code, r.json()["errors"][0]["code"]) == (413, "EntityTooLarge")
    r = c.post(
        "/api/v1/messages/msg_x/reply", data=b"{}", content_type="application/json", CONTENT_LENGTH=big
    )
    assert (r.status_code, r.json()["code"]) == (413, "request.too_large")
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    r = zh.post(
        "/buyers/orders/x/", data=b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=big
    )
    assert "请求超过 12 MB。附件最大为 10 MB。" in r.content.decode()


@pytest.mark.django_db
def test_contact_buyer_file_over_10_mb_is_413_while_streaming() -> None:
    seller = testing.seller()
    order = testing.order(seller=seller, status="Unshipped")
    c = Client()
    c.force_login(seller.user)  # type: ignore[arg-type]
    data, ctype = _multipart(MAX_FILE_BYTES + 1, reason="confirmOrderDetails")
    r = c.post(f"/sellercentral/orders/{order.id}/contact/", data=data, content_type=ctype)
    assert r.status_code == 413
    assert "scan.txt is larger than 10 MB." in r.content.decode()
    assert not Message.objects.exists()
