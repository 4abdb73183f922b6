"""What the SMTP gateway answers: recipient checks at RCPT, the policy decision at end of DATA."""

from __future__ import annotations

import functools
import logging
import re
import textwrap
from dataclasses import dataclass

from django.conf import settings

from parley.conversations import actions
from parley.conversations.models import Message
from parley.core import logs, time
from parley.core.errors import ActionError
from parley.delivery import actions as delivery_actions
from parley.delivery import bounces
from parley.mailgate import auth, rewrite, store
from parley.mailgate.parse import Incoming, MailError, parse
from parley.marketplace import selectors as ms
from parley.marketplace.actions import do_relay_address
from parley.marketplace.models import Buyer, Order, RelayAddress, Seller
from parley.policy.context import prescan
from parley.policy.subject import decode_subject

log = logging.getLogger(__name__)

# An order number's hyphens and what follows them: a pattern that starts with a literal is searched
# for quickly; one that starts with \d is tried at every character (docs/performance.md).
_ORDER_TAIL = re.compile(r"-\d{7}-\d{7}")


def order_ids(text: str) -> list[str]:
    r"""Order numbers written in `text`, not part of a longer run of digits.

    The same as findall of (?<!\d)(\d{3}-\d{7}-\d{7})(?!\d): each candidate is found by its tail, and
    the three digits before it and the boundaries are checked on the few there are.
    """
    found = []
    search = _ORDER_TAIL.search
    end = 0  # the last candidate's end: as with finditer, candidates do not overlap
    m = search(text, 3)
    while m is not None:
        tail = m.start()
        start = tail - 3
        if text[start:tail].isdecimal():  # str.isdecimal is exactly \d
            end = m.end()
            if (start == 0 or not text[start - 1].isdecimal()) and (
                end == len(text) or not text[end].isdecimal()
            ):
                found.append(text[start:end])
            m = search(text, end + 3)
        else:
            m = search(text, tail + 1)
    return found


BOUNCE = "bounce"  # a Route kind besides RelayAddress.Kind: a bounce address of an outbound mail


@dataclass(frozen=True)
class Route:
    """A relay address accepted at RCPT, and who is on either side of it."""

    address: str
    kind: str  # RelayAddress.Kind: "buyer" (a seller writes to a buyer) or "seller" (the reverse)
    seller_id: str
    buyer_id: str
    # The pair's address for the other direction (the relayed copy's From), if it exists yet.
    reverse_local: str | None = None
    # kind "bounce": the outbox row a delivery report is about (see parley.delivery.bounces).
    outbox_id: int | None = None


def reply(code: str, status: str, text: str) -> str:
    """A (possibly multi-line) SMTP reply; every line carries the code and enhanced status."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        if len(paragraph) <= 400 and paragraph.isprintable() and paragraph == paragraph.strip():
            lines.append(paragraph)  # what wrap() gives it, without its cost on every 250
        else:
            lines.extend(textwrap.wrap(paragraph, 400, break_long_words=True) or [""])
    lines = [line for line in lines if line.strip()] or ["OK"]
    out = [f"{code}-{status} {line}" for line in lines[:-1]]
    out.append(f"{code} {status} {lines[-1]}")
    return "\r\n".join(out)


def check_rcpt(*, mail_from: str, rcpt: str, taken: Route | None) -> tuple[str, Route | None]:
    """The answer to RCPT TO:<rcpt> in a transaction from `mail_from`."""
    local, _, domain = rcpt.rpartition("@")
    if domain.lower().rstrip(".") != settings.RELAY_DOMAIN or not local:
        return reply(
            "550", "5.7.1", f"Relaying denied: this server accepts mail for @{settings.RELAY_DOMAIN} only."
        ), None
    if local.lower().startswith(bounces.PREFIX):
        return _bounce_rcpt(rcpt, local, taken)
    found = store.route(local_part=local.lower(), mail_from=mail_from)
    if found is None:
        return reply(
            "550", "5.1.1", f"<{rcpt}>: no such relay address; check that it was copied correctly."
        ), None
    kind, seller_id, buyer_id, reverse_local, sender_ok = found
    route = Route(
        address=rcpt.lower(), kind=kind, seller_id=seller_id, buyer_id=buyer_id, reverse_local=reverse_local
    )
    if taken is not None and taken != route:
        return reply(
            "452", "4.5.3", "One relay address per message, please; send to the others separately."
        ), None
    if not mail_from or not sender_ok:
        if route.kind == RelayAddress.Kind.BUYER:
            return reply(
                "550",
                "5.7.1",
                f"<{mail_from}> is not a confirmed authorized sender address of the seller this relay"
                " address belongs to. Add and confirm the address in Seller Central (Settings,"
                " Authorized senders), or send from one that is.",
            ), None
        return reply(
            "550",
            "5.7.1",
            "Only the buyer of this conversation can write to this address, from their own address.",
        ), None
    return reply("250", "2.1.5", "Recipient OK"), route


def _bounce_rcpt(rcpt: str, local: str, taken: Route | None) -> tuple[str, Route | None]:
    # Reports come from mail servers with the null sender, so the sender is not checked here.
    found = bounces.outbox_id(local)
    if found is None:
        return reply("550", "5.1.1", f"<{rcpt}>: no such bounce address."), None
    route = Route(address=rcpt.lower(), kind=BOUNCE, seller_id="", buyer_id="", outbox_id=found)
    if taken is not None and taken != route:
        return reply("452", "4.5.3", "One report per message, please."), None
    return reply("250", "2.1.5", "Recipient OK"), route


def _late_bounce(route: Route, raw: bytes) -> str:
    assert route.outbox_id is not None
    failed = bounces.failure(raw)
    if failed is None:
        log.info("report for outbox %s names no failure; nothing to do", route.outbox_id)
        return reply("250", "2.0.0", "Report received; it names no failed recipient.")
    status, diagnostic = failed
    delivery_actions.do_record_late_bounce(
        outbox_id=route.outbox_id, status=status, diagnostic=diagnostic, now=time.now()
    )
    return reply("250", "2.0.0", "Report received.")


_relay_cache: dict[tuple[str, str, str], str] = {}


def _relay(buyer: Buyer, seller: Seller, kind: str, known: str | None = None) -> str:
    if known:  # read at RCPT, in the same look-up as the route
        return f"{known}@{settings.RELAY_DOMAIN}"
    # Relay addresses are stable and never reused, so a process may remember them.
    # Only rows that already existed are remembered: one created here could still be rolled back.
    key = (buyer.id, seller.id, kind)
    if key in _relay_cache:
        return _relay_cache[key]
    local = ms.relay_local_part(buyer=buyer, seller=seller, kind=kind)
    if local is None:
        return do_relay_address(buyer=buyer, seller=seller, kind=kind).address()
    if len(_relay_cache) > 100_000:
        _relay_cache.clear()
    _relay_cache[key] = f"{local}@{settings.RELAY_DOMAIN}"
    return _relay_cache[key]


def _find_order(*, seller_id: str, buyer_id: str, subject: str, text: str) -> Order | None:
    """The order a message names (subject first, then body), else the pair's latest order."""
    ids = list(dict.fromkeys(order_ids(subject) + order_ids(text[:20000])))
    for order_id in ids[:20]:
        found = store.named_order(seller_id=seller_id, buyer_id=buyer_id, order_id=order_id)
        if found is not None:
            return found
    return store.latest_order(seller_id=seller_id, buyer_id=buyer_id)


def _attachments(incoming: Incoming) -> list[actions.NewAttachment]:
    return [actions.NewAttachment(filename=a.filename, data=a.data) for a in incoming.attachments]


def _answered(incoming: Incoming) -> list[str]:
    return incoming.message_ids("In-Reply-To") or incoming.message_ids("References")[-1:]


def _refusal(result: actions.SendResult, order: Order) -> str:
    reasons = result.reasons or result.hits[:1]
    en = " ".join(h.en for h in reasons).strip() or "The marketplace's messaging policy does not allow it."
    zh = "".join(h.zh for h in reasons).strip() or "根据平台的消息政策，此消息不能发送。"
    text = (
        f"Your message about order {order.id} was not delivered to the buyer: {en}\n"
        "It is recorded in the conversation in Seller Central."
    )
    if (order.marketplace.default_locale or "en").lower().startswith("zh"):
        text += f"\n您关于订单 {order.id} 的消息未送达买家：{zh}\n此消息已记录在卖家平台的对话中。"
    return reply("550", "5.7.1", text)


def handle_data(
    *, route: Route, mail_from: str, raw: bytes, peer_ip: str = "", helo: str = "", session_id: str = ""
) -> str:
    """Decide on one message and answer; 250 only once it is committed."""
    with logs.bound(session_id=session_id):
        if route.kind == BOUNCE:
            return _late_bounce(route, raw)
        try:
            incoming = parse(raw)
        except MailError as e:
            return e.reply
        return handle_incoming(
            route=route, mail_from=mail_from, incoming=incoming, peer_ip=peer_ip, helo=helo
        )


def _subject(incoming: Incoming) -> tuple[bytes, str]:
    """A seller's subject as it came, and decoded."""

    def compute() -> tuple[bytes, str]:
        raw = incoming.first("Subject") or b""
        return raw, decode_subject(raw).strip()

    return incoming.derive(("subject",), compute)


def prepare(route: Route, incoming: Incoming) -> None:
    """Work out ahead what the decision on `incoming` reads from the message alone.

    A receiver process calls this after parsing: the results go with the message (Incoming.derived),
    and the writer, whose core is the scarce one, only looks them up. The answer is the same without.
    """
    if route.kind == BOUNCE:
        return
    incoming.addresses("From")
    incoming.message_ids("In-Reply-To", "References", "Message-ID")
    incoming.is_auto_reply  # noqa: B018 (its header look-ups are kept)
    if route.kind == RelayAddress.Kind.BUYER:
        # The policy's content scans (a buyer's messages have none) of the subject, as the engine is
        # given it, and of the text.
        raw, _ = _subject(incoming)
        incoming.derive(
            ("scans",), lambda: prescan(subject=raw.decode("utf-8", "surrogateescape"), body=incoming.text)
        )
    else:
        incoming.text_of("Subject")


def handle_incoming(
    *,
    route: Route,
    mail_from: str,
    incoming: Incoming,
    peer_ip: str = "",
    helo: str = "",
    session_id: str = "",
) -> str:
    """handle_data for a message already parsed (by a receiver process: see receivers.py)."""
    with logs.bound(session_id=session_id):  # the SMTP session's id, from whichever process it ran in
        if route.kind == RelayAddress.Kind.BUYER:
            return _seller_to_buyer(
                route=route, mail_from=mail_from, incoming=incoming, peer_ip=peer_ip, helo=helo
            )
        return _buyer_to_seller(
            route=route, mail_from=mail_from, incoming=incoming, peer_ip=peer_ip, helo=helo
        )


def _unauthenticated(incoming: Incoming, *, mail_from: str, sender: str, peer_ip: str, helo: str) -> str:
    """With PARLEY_VERIFY_SENDER=dmarc, the refusal of mail whose From is not authenticated (DKIM or
    SPF aligned with its domain); empty when it is, or when the setting is off. Both directions: a
    buyer's address is as easy to forge as a seller's."""
    if settings.VERIFY_SENDER != "dmarc":
        return ""
    verdict = auth.verify(raw=incoming.raw, mail_from=mail_from, from_addr=sender, ip=peer_ip, helo=helo)
    if verdict.ok:
        return ""
    log.info("refused unauthenticated mail from %s: %s", sender, verdict.detail)
    return reply(
        "550",
        "5.7.1",
        f"Sender authentication failed for {sender}: the message needs a DKIM signature or SPF"
        f" pass aligned with the From domain (DMARC). Found {verdict.detail}.",
    )


def _seller_to_buyer(*, route: Route, mail_from: str, incoming: Incoming, peer_ip: str, helo: str) -> str:
    senders = incoming.addresses("From")
    # The envelope sender was checked at RCPT; a From equal to it needs no second look-up.
    if len(senders) != 1 or (
        senders[0].lower() != mail_from.lower() and not ms.sender_is_authorized(route.seller_id, senders[0])
    ):
        shown = ", ".join(senders) or "(none)"
        return reply(
            "550",
            "5.7.1",
            f"The From address {shown} is not a confirmed authorized sender address of the seller this relay"
            " address belongs to. Send from an address you added and confirmed in Seller Central.",
        )
    refused = _unauthenticated(incoming, mail_from=mail_from, sender=senders[0], peer_ip=peer_ip, helo=helo)
    if refused:
        return refused
    raw_subject, subject = _subject(incoming)
    order = _find_order(
        seller_id=route.seller_id, buyer_id=route.buyer_id, subject=subject, text=incoming.text
    )
    if order is None:
        return reply(
            "550",
            "5.7.1",
            "There is no order between you and this buyer, so Parley cannot relay the message.",
        )
    seller: Seller = order.seller
    buyer: Buyer = order.buyer
    seller_relay = _relay(buyer, seller, RelayAddress.Kind.SELLER, route.reverse_local)

    # Builds the relayed copy inside the transaction that records the message.
    outbound = functools.partial(
        rewrite.relay,
        incoming,
        from_name=seller.display_name,
        from_addr=seller_relay,
        to_name=buyer.name,
        to_addr=buyer.email,
        hide=[mail_from, *senders, seller.email],
        dsn_to=mail_from,
    )

    try:
        result = actions.check_send_message(
            request=actions.SendRequest(
                channel=Message.Channel.EMAIL,
                sender=seller,
                order=order,
                subject=subject,
                raw_subject=raw_subject.decode("utf-8", "surrogateescape"),
                body=incoming.text,
                parts=incoming.part_starts,
                attachments=_attachments(incoming),
                references=_answered(incoming),
                rfc_message_id=(incoming.message_ids("Message-ID") or [""])[0],
                # An out-of-office from the seller's mailbox is relayed but answers nothing.
                auto_reply=incoming.is_auto_reply,
                hide=[mail_from, *senders, seller.email],
                alias=seller_relay,
                outbound=outbound,
                scans=incoming.derived.get(("scans",), ()),
            )
        )
    except ActionError as e:
        return reply("550", "5.7.1", f"{e.en}\n{e.zh}")
    msg = result.message
    if result.refused:
        return _refusal(result, order)
    # A relay address is the buyer's, for all their orders with this seller: say which order the
    # message was filed under when the mail itself did not name it.
    named = order.id in subject or order.id in incoming.text[:20000]
    filed = (
        ""
        if named
        else f" No order number was in the subject or text, so it was filed under your most recent order"
        f" with this buyer, {order.id}; to file a message under another order, put its number in the subject."
    )
    if msg.state == Message.State.HELD:
        return reply(
            "250",
            "2.0.0",
            f"Accepted for order {order.id} and held for review by the marketplace ({msg.public_id}).{filed}",
        )
    return reply(
        "250", "2.0.0", f"Accepted for delivery to the buyer of order {order.id} ({msg.public_id}).{filed}"
    )


def _buyer_to_seller(*, route: Route, mail_from: str, incoming: Incoming, peer_ip: str, helo: str) -> str:
    buyer = ms.buyer_by_id(route.buyer_id)
    senders = incoming.addresses("From")
    if len(senders) != 1 or senders[0].lower() != buyer.email.lower():
        return reply(
            "550",
            "5.7.1",
            "Only the buyer of this conversation can write to this address, from their own address.",
        )
    refused = _unauthenticated(incoming, mail_from=mail_from, sender=senders[0], peer_ip=peer_ip, helo=helo)
    if refused:
        return refused
    subject = incoming.text_of("Subject")
    order = _find_order(
        seller_id=route.seller_id, buyer_id=route.buyer_id, subject=subject, text=incoming.text
    )
    if order is None:
        return reply("550", "5.7.1", "There is no order between you and this seller.")
    seller: Seller = order.seller
    buyer_relay = _relay(buyer, seller, RelayAddress.Kind.BUYER, route.reverse_local)

    # Builds the relayed copy inside the transaction that records the message.
    outbound = functools.partial(
        rewrite.relay,
        incoming,
        from_name=buyer.name,
        from_addr=buyer_relay,
        to_name=seller.display_name,
        to_addr=seller.email,
        hide=[mail_from, *senders, buyer.email],
        dsn_to=mail_from,
    )

    try:
        result = actions.check_send_message(
            request=actions.SendRequest(
                channel=Message.Channel.EMAIL,
                sender=buyer,
                order=order,
                subject=subject or f"Message about order {order.id}",
                body=incoming.text,
                parts=incoming.part_starts,
                attachments=_attachments(incoming),
                references=_answered(incoming),
                rfc_message_id=(incoming.message_ids("Message-ID") or [""])[0],
                auto_reply=incoming.is_auto_reply,
                hide=[mail_from, *senders],
                alias=buyer_relay,
                outbound=outbound,
            )
        )
    except ActionError as e:
        return reply("550", "5.7.1", f"{e.en}\n{e.zh}")
    msg = result.message
    if result.refused:
        en = " ".join(h.en for h in result.reasons) or "The marketplace's messaging policy does not allow it."
        return reply("550", "5.7.1", f"Your message was not delivered to the seller: {en}")
    return reply("250", "2.0.0", f"Accepted for delivery to the seller ({msg.public_id}).")
