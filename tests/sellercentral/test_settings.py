"""Settings → Messaging permissions, the confirmation link, and the mail-client help page."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from typing import Any

import pytest
from django.test import Client

from parley import testing
from parley.core import time
from parley.delivery.models import OutboundMail
from parley.marketplace.actions import hash_token
from parley.marketplace.models import AuthorizedSender, Seller

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def mailed_link(row: OutboundMail) -> str:
    mail = email.message_from_bytes(bytes(row.data), policy=email.policy.default)
    assert mail["To"] == "ops@acme.example"
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Acme Tools asked to write to buyers from ops@acme.example." in text
    assert "Acme Tools 申请使用 ops@acme.example 给买家发送消息。" in text
    m = re.search(r"https?://\S+(/sellercentral/settings/messaging/confirm/[\w-]+/)", text)
    assert m, text
    return m.group(1)


def test_add_confirm_list_remove(client_en: Client, seller: Seller) -> None:
    resp = client_en.post("/sellercentral/settings/messaging/", {"email": "ops@acme.example"})
    assert resp.status_code == 302
    sender = AuthorizedSender.objects.get(seller=seller)
    assert sender.email == "ops@acme.example"
    assert sender.confirmed_at is None
    row = OutboundMail.objects.get(purpose="system")
    assert row.rcpt_to == ["ops@acme.example"]
    link = mailed_link(row)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert sender.confirm_token_hash == hash_token(token)
    assert token not in sender.confirm_token_hash
    html = client_en.get("/sellercentral/settings/messaging/").content.decode()
    assert "We sent a confirmation link to ops@acme.example." in html
    assert "Waiting for confirmation" in html

    anon = Client()
    page = anon.get(link)
    assert page.status_code == 200
    assert "Acme Tools asked to write to buyers from ops@acme.example." in page.content.decode()
    sender.refresh_from_db()
    assert sender.confirmed_at is None  # a GET (link scanner) confirms nothing
    done = anon.post(link)
    assert "Confirmed: Acme Tools can now write to buyers from ops@acme.example." in done.content.decode()
    sender.refresh_from_db()
    assert sender.confirmed_at is not None
    assert anon.get(link).status_code == 404  # single use

    html = client_en.get("/sellercentral/settings/messaging/").content.decode()
    assert "Confirmed" in html
    resp = client_en.post(f"/sellercentral/settings/messaging/{sender.pk}/remove/", {"confirm": "yes"})
    assert resp.status_code == 302
    assert not AuthorizedSender.objects.exists()
    assert "The address was removed." in client_en.get("/sellercentral/settings/messaging/").content.decode()


def test_removing_the_only_confirmed_address_asks_first(client_en: Client, seller: Seller) -> None:
    only = AuthorizedSender.objects.create(seller=seller, email="ops@acme.example", confirmed_at=T0)
    AuthorizedSender.objects.create(seller=seller, email="new@acme.example")  # not confirmed: no help
    url = f"/sellercentral/settings/messaging/{only.pk}/remove/"
    resp = client_en.post(url)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert '<h1 id="remove-h">Remove your only confirmed address?</h1>' in html
    assert (
        '<p id="remove-why">ops@acme.example is your only confirmed address: without it, mail you write to'
        " buyers from your own mail client is refused until you add and confirm another address.</p>"
    ) in html
    assert f'<form method="post" action="{url}" class="actions">' in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    assert '<a class="button" href="/sellercentral/settings/messaging/" id="keep-sender">Keep it</a>' in html
    assert AuthorizedSender.objects.filter(pk=only.pk).exists()
    assert client_en.post(url, {"confirm": "no"}).status_code == 200
    assert AuthorizedSender.objects.filter(pk=only.pk).exists()
    assert client_en.post(url, {"confirm": "yes"}).status_code == 302
    assert sorted(AuthorizedSender.objects.values_list("email", flat=True)) == ["new@acme.example"]


def test_removing_the_only_confirmed_address_asks_in_chinese(client_zh: Client, seller: Seller) -> None:
    only = AuthorizedSender.objects.create(seller=seller, email="ops@acme.example", confirmed_at=T0)
    html = client_zh.post(f"/sellercentral/settings/messaging/{only.pk}/remove/").content.decode()
    assert '<h1 id="remove-h">要删除您唯一已确认的地址吗？</h1>' in html
    assert (
        '<p id="remove-why">ops@acme.example 是您唯一已确认的地址：删除后，您用自己的邮件客户端写给买家的邮件'
        "都会被拒收，直到您添加并确认另一个地址。</p>"
    ) in html
    assert "通过【联系买家】和【消息】页面发送的消息不受影响。" in html
    assert ">删除 ops@acme.example</button>" in html
    assert AuthorizedSender.objects.filter(pk=only.pk).exists()


def test_removing_one_of_two_confirmed_or_an_unconfirmed_address_does_not_ask(
    client_en: Client, seller: Seller
) -> None:
    a = AuthorizedSender.objects.create(seller=seller, email="a@acme.example", confirmed_at=T0)
    b = AuthorizedSender.objects.create(seller=seller, email="b@acme.example", confirmed_at=T0)
    waiting = AuthorizedSender.objects.create(seller=seller, email="c@acme.example")
    assert client_en.post(f"/sellercentral/settings/messaging/{waiting.pk}/remove/").status_code == 302
    assert client_en.post(f"/sellercentral/settings/messaging/{a.pk}/remove/").status_code == 302
    assert list(AuthorizedSender.objects.values_list("pk", flat=True)) == [b.pk]
    assert client_en.post(f"/sellercentral/settings/messaging/{b.pk}/remove/").status_code == 200


def test_add_errors(client_en: Client, seller: Seller) -> None:
    AuthorizedSender.objects.create(seller=seller, email="ops@acme.example")
    resp = client_en.post("/sellercentral/settings/messaging/", {"email": "OPS@acme.example"})
    assert resp.status_code == 400
    assert "This address is already on your list." in resp.content.decode()
    resp = client_en.post("/sellercentral/settings/messaging/", {"email": "not an address"})
    assert resp.status_code == 400
    assert "Enter a valid email address." in resp.content.decode()
    resp = client_en.post("/sellercentral/settings/messaging/", {"email": "x@relay.parley.localhost"})
    assert resp.status_code == 400
    assert "A relay address cannot be an authorized sender." in resp.content.decode()
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(seller.user)  # type: ignore[arg-type]
    resp = zh.post("/sellercentral/settings/messaging/", {"email": "ops@acme.example"})
    assert "此地址已在您的列表中。" in resp.content.decode()
    assert "<h1>消息权限</h1>" in resp.content.decode()


def test_other_sellers_sender_is_404(client_en: Client) -> None:
    other = testing.seller(senders=("x@other.example",))
    sender = AuthorizedSender.objects.get(seller=other)
    assert client_en.post(f"/sellercentral/settings/messaging/{sender.pk}/remove/").status_code == 404
    assert AuthorizedSender.objects.filter(pk=sender.pk).exists()
    assert "x@other.example" not in client_en.get("/sellercentral/settings/messaging/").content.decode()


def test_confirm_page_in_chinese(seller: Seller) -> None:
    from parley.core import time
    from parley.marketplace.actions import do_add_authorized_sender

    _, raw = do_add_authorized_sender(seller=seller, email="ops@acme.example", now=time.now())
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    url = f"/sellercentral/settings/messaging/confirm/{raw}/"
    assert "Acme Tools 申请使用 ops@acme.example 给买家发送消息。" in c.get(url).content.decode()
    assert "已确认：Acme Tools 现在可以使用 ops@acme.example 给买家发送消息。" in c.post(url).content.decode()


def test_bad_confirm_token_is_404() -> None:
    assert Client().get("/sellercentral/settings/messaging/confirm/nope/").status_code == 404
    assert Client().post("/sellercentral/settings/messaging/confirm/nope/").status_code == 404


def test_mail_client_help_in_both_languages(client_en: Client, seller: Seller) -> None:
    html = client_en.get("/sellercentral/settings/mail-client/").content.decode()
    assert "<h1>Writing from your mail client</h1>" in html
    assert "include the word [Important], with the square brackets" in html
    assert "may result in the suspension of your selling privileges" in html
    assert "What bounces, and why" in html
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh.force_login(seller.user)  # type: ignore[arg-type]
    zh_html = zh.get("/sellercentral/settings/mail-client/").content.decode()
    assert "[重要]" in zh_html
    assert "销售权限被暂停" in zh_html
    assert "中转地址" in zh_html


def add(client: Client, address: str) -> Any:
    return client.post("/sellercentral/settings/messaging/", {"email": address})


def remove_all(seller: Seller) -> None:
    for sender in AuthorizedSender.objects.filter(seller=seller):  # the page's remove button
        c = Client()
        c.force_login(seller.user)  # type: ignore[arg-type]
        url = f"/sellercentral/settings/messaging/{sender.pk}/remove/"
        assert c.post(url, {"confirm": "yes"}).status_code == 302


def mails_to(address: str) -> int:
    return sum(address in row.rcpt_to for row in OutboundMail.objects.filter(purpose="system"))


COOLDOWN_EN = (
    "A confirmation link was sent to this address a moment ago. Check that mailbox (and its spam folder), "
    "or ask again in {}."
)


def test_adding_and_removing_an_address_again_and_again_mails_it_once(
    client_en: Client, seller: Seller
) -> None:
    time.freeze(T0)
    assert add(client_en, "victim@mail.example").status_code == 302
    for _ in range(5):
        remove_all(seller)
        r = add(client_en, "victim@mail.example")
        assert r.status_code == 429
        assert COOLDOWN_EN.format("10 minutes") in r.content.decode()
    assert mails_to("victim@mail.example") == 1
    assert not AuthorizedSender.objects.filter(seller=seller).exists()  # nothing half-written
    time.freeze(T0 + dt.timedelta(minutes=9, seconds=1))
    assert COOLDOWN_EN.format("1 minute") in add(client_en, "Victim@Mail.example").content.decode()
    time.freeze(T0 + dt.timedelta(minutes=10, seconds=1))
    assert add(client_en, "victim@mail.example").status_code == 302
    assert mails_to("victim@mail.example") == 2


def test_three_confirmation_mails_a_day_to_one_address(client_en: Client, seller: Seller) -> None:
    for i in range(3):
        time.freeze(T0 + dt.timedelta(minutes=20 * i))
        remove_all(seller)
        assert add(client_en, "ops@acme.example").status_code == 302
    time.freeze(T0 + dt.timedelta(hours=1))
    remove_all(seller)
    r = add(client_en, "ops@acme.example")
    assert r.status_code == 429
    assert (
        "This address was sent 3 confirmation links in the last 24 hours. Ask again in 23 hours."
        in r.content.decode()
    )
    time.freeze(T0 + dt.timedelta(days=1, seconds=1))
    assert add(client_en, "ops@acme.example").status_code == 302
    assert mails_to("ops@acme.example") == 4


def test_the_address_cooldown_holds_across_sellers(client_zh: Client, seller: Seller) -> None:
    time.freeze(T0)
    other = Client()
    other.force_login(testing.seller().user)  # type: ignore[arg-type]
    assert add(other, "victim@mail.example").status_code == 302
    r = add(client_zh, "victim@mail.example")
    assert r.status_code == 429
    assert (
        "刚刚已向此地址发送确认链接。请查看该邮箱（包括垃圾邮件），或在 10 分钟后重试。" in r.content.decode()
    )
    assert mails_to("victim@mail.example") == 1


def test_five_confirmation_mails_an_hour_per_seller(client_en: Client, seller: Seller) -> None:
    time.freeze(T0)
    for i in range(5):
        assert add(client_en, f"desk{i}@acme.example").status_code == 302
    r = add(client_en, "desk5@acme.example")
    assert r.status_code == 429
    assert (
        "You asked for 5 confirmation links in the last hour. Ask again in 60 minutes." in r.content.decode()
    )
    time.freeze(T0 + dt.timedelta(hours=1, seconds=1))
    assert add(client_en, "desk5@acme.example").status_code == 302
