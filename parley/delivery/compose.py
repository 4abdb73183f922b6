"""Compose the mails that carry web and API messages to their recipient's real mailbox."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from parley.conversations import files
from parley.conversations.models import Attachment, Message
from parley.delivery import actions
from parley.delivery.outbox import OutboundSpec, enqueue
from parley.marketplace import actions as market_actions
from parley.marketplace.models import RelayAddress


def _thread_url(name: str, order_id: str) -> str:
    try:
        return settings.PUBLIC_URL + reverse(name, args=[order_id])
    except NoReverseMatch:
        return settings.PUBLIC_URL + "/"


def _mail(*, msg: Message, from_name: str, from_addr: str, to_addr: str, footer: str) -> EmailMessage:
    mail = EmailMessage(policy=SMTP)
    mail["From"] = formataddr((from_name, from_addr))
    mail["To"] = to_addr
    mail["Subject"] = msg.subject
    mail["Date"] = format_datetime(msg.created_at)
    mail["Message-ID"] = msg.relay_message_id
    if msg.in_reply_to and msg.in_reply_to.relay_message_id:
        mail["In-Reply-To"] = msg.in_reply_to.relay_message_id
        mail["References"] = msg.in_reply_to.relay_message_id
    mail["Auto-Submitted"] = "no"
    mail.set_content(f"{msg.body}\n\n-- \n{footer}\n")
    for att in Attachment.objects.filter(message=msg).order_by("id"):
        maintype, _, subtype = att.content_type.partition("/")
        mail.add_attachment(files.read(att.file), maintype=maintype, subtype=subtype, filename=att.filename)
    return mail


def notify_buyer(msg: Message) -> None:
    """Queue a web/API seller message to the buyer's real address, replies going to the seller's relay."""
    order = msg.conversation.order
    actions.do_assign_relay_id(message=msg)
    seller_relay = market_actions.do_relay_address(
        buyer=order.buyer, seller=order.seller, kind=RelayAddress.Kind.SELLER
    ).address()
    zh = order.buyer.locale.lower().startswith("zh")
    url = _thread_url("buyers:thread", order.id)
    footer = (
        f"回复此邮件即可答复卖家。在线查看：{url}"
        if zh
        else f"Reply to this email to answer the seller. View online: {url}"
    )
    mail = _mail(
        msg=msg,
        from_name=order.seller.display_name,
        from_addr=seller_relay,
        to_addr=order.buyer.email,
        footer=footer,
    )
    spec = OutboundSpec(
        purpose="notify", mail_from=seller_relay, rcpt_to=[order.buyer.email], data=mail.as_bytes()
    )
    enqueue(spec=spec, message=msg, now=msg.created_at)


def notify_seller(msg: Message) -> None:
    """Queue a buyer's web message to the seller's primary address from the buyer's relay address."""
    order = msg.conversation.order
    actions.do_assign_relay_id(message=msg)
    buyer_relay = market_actions.do_relay_address(
        buyer=order.buyer, seller=order.seller, kind=RelayAddress.Kind.BUYER
    ).address()
    url = _thread_url("sellercentral:order", order.id)
    footer = f"Reply to this email, or answer in Seller Central: {url}"
    mail = _mail(
        msg=msg, from_name=order.buyer.name, from_addr=buyer_relay, to_addr=order.seller.email, footer=footer
    )
    spec = OutboundSpec(
        purpose="notify", mail_from=buyer_relay, rcpt_to=[order.seller.email], data=mail.as_bytes()
    )
    enqueue(spec=spec, message=msg, now=msg.created_at)


def notify(msg: Message) -> None:
    """Queue a delivered web or API message to its recipient's real mailbox."""
    (notify_buyer if msg.direction == Message.Direction.SELLER_TO_BUYER else notify_seller)(msg)
