"""All writes to conversations: check_* validates untrusted input, do_* records what it is given."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction

from parley.conversations import selectors as cs
from parley.conversations.models import Attachment, Conversation, Message, PolicyDecision, Violation
from parley.core import inserts, time, uploads
from parley.core.errors import ActionError
from parley.marketplace import selectors as ms
from parley.marketplace.models import Buyer, Order, Seller
from parley.policy import decide
from parley.policy.content import Scan
from parley.policy.filecheck import Inspection, inspect_file
from parley.policy.models import ContactReason
from parley.policy.types import AttachmentFacts, Decision, ReplyFacts, Submission

MAX_FILE_BYTES = uploads.MAX_FILE_BYTES


@dataclass(frozen=True)
class NewAttachment:
    """A file as it arrived, judged by its name and whole content (never by what the sender declared)."""

    filename: str
    data: bytes

    @functools.cached_property
    def inspection(self) -> Inspection:
        return inspect_file(self.filename, self.data)

    @property
    def content_type(self) -> str:
        return self.inspection.content_type

    def facts(self) -> AttachmentFacts:
        found = self.inspection
        return AttachmentFacts(
            filename=found.name,
            content_type=found.content_type,
            size=len(self.data),
            problem=found.problem,
            problem_en=found.en,
            problem_zh=found.zh,
        )


# Builds the mail(s) that carry a recorded message to its recipient; runs inside the transaction.
Outbound = Callable[[Message], None]

STATE_FOR_ACTION = {
    "deliver": Message.State.DELIVERED,
    "block": Message.State.BLOCKED,
    "bounce": Message.State.BOUNCED,
    "hold": Message.State.HELD,
}


def _in_callers_transaction() -> transaction.Atomic:
    # A send is all or nothing. Inside a caller's transaction it is part of the caller's: a failure
    # marks that transaction for rollback, so a caller that goes on after one needs a savepoint of
    # its own, as the gateway's group committer takes for each message. Two more statements per
    # message (SAVEPOINT, RELEASE) on the gateway's single writer bought nothing.
    return transaction.atomic(savepoint=False)


def conversation_for(order: Order, *, now: dt.datetime) -> tuple[Conversation, bool]:
    """The order's conversation, created on its first message (stamped with `now`); and whether it was."""
    try:
        return order.conversation, False  # no query when the order was read with select_related
    except Conversation.DoesNotExist:
        pass
    conv = inserts.create_unless_exists(
        Conversation,
        unique="order",
        order=order,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        last_message_at=now,
    )
    created = conv is not None
    if conv is None:  # another transaction created it first
        conv = Conversation.objects.get(order=order)
    # Also replaces what building the row left in the order's cache: an unsaved conversation.
    order.conversation = conv
    return conv, created


def _reason(code: str | None) -> ContactReason | None:
    if not code:
        return None
    try:
        return ContactReason.objects.get(code=code)
    except ContactReason.DoesNotExist:
        raise ActionError(
            "reason.unknown",
            f"There is no contact reason called {code!r}.",
            f"不存在名为 {code!r} 的联系原因。",
            field="reason",
        ) from None


def _clean_filename(name: str) -> str:
    # Keep the base name only, without control characters: it ends up in MIME headers and HTML.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name.strip()[:200] or "attachment"


def _require_text(body: object) -> None:
    if not isinstance(body, str):
        raise ActionError(
            "body.invalid", "The message text must be text.", "消息内容必须是文本。", field="body"
        )


def _checked_files(attachments: Sequence[NewAttachment]) -> list[NewAttachment]:
    """Refuse any file over 10 MB before anything is stored; keep only a safe base name."""
    for f in attachments:
        if len(f.data) > MAX_FILE_BYTES:
            raise ActionError(
                "attachments.too_large",
                f"{_clean_filename(f.filename)} is larger than 10 MB.",
                f"{_clean_filename(f.filename)} 超过 10 MB。",
                status=413,
                field="attachments",
            )
    # The same object when the name is already clean: its inspection is made once.
    return [
        f if _clean_filename(f.filename) == f.filename else NewAttachment(_clean_filename(f.filename), f.data)
        for f in attachments
    ]


def _reply_target(conversation: Conversation | None, message_id: str | None) -> Message | None:
    if not message_id:
        return None
    msg = (
        Message.objects.filter(public_id=message_id, conversation=conversation).first()
        if conversation is not None
        else None
    )
    if msg is None:
        raise ActionError(
            "message.not_found", "No such message.", "没有这条消息。", status=404, field="in_reply_to"
        )
    return msg


def build_submission(
    *,
    order: Order,
    direction: str,
    channel: str,
    reason: ContactReason | None,
    subject: str,
    body: str,
    attachments: Sequence[AttachmentFacts],
    in_reply_to_buyer: bool,
    sender_owns_order: bool,
    now: dt.datetime,
    scans: tuple[Scan, ...] = (),
    reply: ReplyFacts | None = None,
) -> Submission:
    market = order.marketplace
    counted = ms.tallies(order, now=now)
    return Submission(
        channel=channel,  # type: ignore[arg-type]
        direction=direction,  # type: ignore[arg-type]
        marketplace=ms.marketplace_facts(order),
        seller=ms.seller_facts(
            order.seller,
            now=now,
            sent_today=counted.sent_today,
            multiplier=market.daily_cap_multiplier,
            base=market.daily_cap_base,
        ),
        buyer=ms.buyer_facts(order.buyer),
        order=ms.order_facts(order, counted=counted),
        now=now,
        reason=reason.spec() if reason else None,
        subject=subject,
        body=body,
        attachments=tuple(attachments),
        sender_owns_order=sender_owns_order,
        in_reply_to_buyer=in_reply_to_buyer,
        reply=reply,
        scans=scans,
    )


def check_send_seller_message(
    *,
    seller: Seller,
    order_id: str,
    channel: str,
    reason_code: str | None,
    body: str,
    attachments: Sequence[NewAttachment] = (),
    upload_ids: Sequence[str] = (),
    in_reply_to_id: str | None = None,
    now: dt.datetime | None = None,
) -> Message:
    """A seller writes to the buyer of one of their orders from the web or the API."""
    order = ms.access_order_for_seller(seller, order_id)
    _require_text(body)
    reason = _reason(reason_code)
    conversation = Conversation.objects.filter(order=order).first()
    in_reply_to = _reply_target(conversation, in_reply_to_id)
    if in_reply_to is not None and in_reply_to.direction != Message.Direction.BUYER_TO_SELLER:
        raise ActionError(
            "message.not_buyer_message", "You can only reply to a buyer's message.", "只能回复买家的消息。"
        )
    if reason is None and in_reply_to is None:
        raise ActionError("reason.missing", "Choose a contact reason.", "请选择联系原因。", field="reason")
    files = _checked_files(attachments)
    uploads = list(
        Attachment.objects.filter(public_id__in=list(upload_ids), seller=seller, message__isnull=True)
    )
    if len(uploads) != len(set(upload_ids)):
        raise ActionError(
            "attachments.unknown_upload",
            "An attachment refers to an upload that does not exist or was already used.",
            "附件引用的上传文件不存在或已被使用。",
            status=400,
            field="attachments",
        )
    return do_send_seller_message(
        seller=seller,
        order=order,
        channel=channel,
        reason=reason,
        subject=reason.subject(order_id=order.id, language=order.buyer.locale)
        if reason
        else _reply_subject(order),
        body=body,
        attachments=files,
        uploads=uploads,
        in_reply_to=in_reply_to,
        now=now or time.now(),
    )


def _reply_subject(order: Order) -> str:
    if order.buyer.locale.lower().startswith("zh"):
        return f"回复:关于订单 {order.id} 的消息"
    return f"Re: your message about order {order.id}"


def _buyer_subject(order: Order) -> str:
    """The subject of a buyer's web message, in the buyer's language like the rest of their thread."""
    if order.buyer.locale.startswith("zh"):
        return f"回复:订单 {order.id}"
    return f"Message about order {order.id}"


def do_send_seller_message(
    *,
    seller: Seller,
    order: Order,
    channel: str,
    reason: ContactReason | None,
    subject: str,
    body: str,
    attachments: Sequence[NewAttachment] = (),
    uploads: Sequence[Attachment] = (),
    in_reply_to: Message | None = None,
    raw_subject: str | None = None,
    sender_owns_order: bool = True,
    rfc_message_id: str = "",
    auto_reply: bool = False,
    outbound: Outbound | None = None,
    scans: tuple[Scan, ...] = (),
    now: dt.datetime,
) -> Message:
    """Decide on a seller's message, record it with the decision, and queue its delivery.

    Inside a caller's transaction it takes no savepoint of its own (see _in_callers_transaction)."""
    with _in_callers_transaction():
        msg, decision, new_conversation = _decide_and_record(
            order=order,
            direction=Message.Direction.SELLER_TO_BUYER,
            channel=channel,
            reason=reason,
            subject=subject,
            raw_subject=raw_subject,
            body=body,
            attachments=attachments,
            uploads=uploads,
            in_reply_to=in_reply_to,
            sender_owns_order=sender_owns_order,
            rfc_message_id=rfc_message_id,
            now=now,
            auto_reply=auto_reply,
            scans=scans,
        )
        for hit in decision.violations:
            inserts.create(
                Violation,
                seller=seller,
                message=msg,
                kind=Violation.Kind.TAG_MISUSE if hit.code.startswith("tag.") else Violation.Kind.OTHER,
                detail=f"{hit.code}: {hit.en}",
                created_at=now,
            )
        if msg.state == Message.State.DELIVERED and not auto_reply and not new_conversation:
            # Any answer the seller actually delivers stops the buyer's 24-hour clock; an
            # automatic reply (out-of-office, "we got your mail") is not an answer.
            Message.objects.filter(
                conversation=msg.conversation,
                direction=Message.Direction.BUYER_TO_SELLER,
                responded_at__isnull=True,
                created_at__lte=now,
            ).update(responded_at=now)
        if msg.state == Message.State.DELIVERED:
            if outbound is not None:
                outbound(msg)
            else:
                from parley.delivery.compose import notify_buyer

                notify_buyer(msg)
    return msg


def check_send_buyer_message(
    *,
    buyer: Buyer,
    order_id: str,
    channel: str,
    body: str,
    attachments: Sequence[NewAttachment] = (),
    in_reply_to_id: str | None = None,
    now: dt.datetime | None = None,
) -> Message:
    """A buyer writes to the seller of one of their orders."""
    order = ms.access_order_for_buyer(buyer, order_id)
    _require_text(body)
    conversation = Conversation.objects.filter(order=order).first()
    in_reply_to = _reply_target(conversation, in_reply_to_id)
    files = _checked_files(attachments)
    return do_send_buyer_message(
        order=order,
        channel=channel,
        subject=_buyer_subject(order),
        body=body,
        attachments=files,
        in_reply_to=in_reply_to,
        now=now or time.now(),
    )


def do_send_buyer_message(
    *,
    order: Order,
    channel: str,
    subject: str,
    body: str,
    attachments: Sequence[NewAttachment] = (),
    in_reply_to: Message | None = None,
    rfc_message_id: str = "",
    auto_reply: bool = False,
    outbound: Outbound | None = None,
    now: dt.datetime,
) -> Message:
    """Record a buyer's message (never blocked by opt-out) and queue it to the seller's address.

    Inside a caller's transaction it takes no savepoint of its own (see _in_callers_transaction)."""
    with _in_callers_transaction():
        msg, _, _ = _decide_and_record(
            order=order,
            direction=Message.Direction.BUYER_TO_SELLER,
            channel=channel,
            reason=None,
            subject=subject,
            body=body,
            attachments=attachments,
            in_reply_to=in_reply_to,
            rfc_message_id=rfc_message_id,
            now=now,
            auto_reply=auto_reply,
        )
        if msg.state == Message.State.DELIVERED:
            if outbound is not None:
                outbound(msg)
            else:
                from parley.delivery.compose import notify_seller

                notify_seller(msg)
    return msg


def _decide_and_record(
    *,
    order: Order,
    direction: str,
    channel: str,
    reason: ContactReason | None,
    subject: str,
    body: str,
    attachments: Sequence[NewAttachment],
    in_reply_to: Message | None,
    rfc_message_id: str,
    now: dt.datetime,
    uploads: Sequence[Attachment] = (),
    raw_subject: str | None = None,
    sender_owns_order: bool = True,
    auto_reply: bool = False,
    scans: tuple[Scan, ...] = (),
) -> tuple[Message, Decision, bool]:
    """Run the policy engine on one message and record it, whatever the verdict, with the decision;
    the flag says whether the message started its conversation."""
    facts = [a.facts() for a in attachments] + [
        AttachmentFacts(filename=u.filename, content_type=u.content_type, size=u.size) for u in uploads
    ]
    replies_to_buyer = (
        direction == Message.Direction.SELLER_TO_BUYER
        and in_reply_to is not None
        and in_reply_to.direction == Message.Direction.BUYER_TO_SELLER
    )
    decision = decide(
        build_submission(
            order=order,
            direction=direction,
            channel=channel,
            reason=reason,
            # The engine reads an email's subject as it came (encoded-words and all).
            subject=raw_subject if raw_subject is not None else subject,
            body=body,
            attachments=facts,
            # Only a seller's answer to the buyer's own message counts as a reply (opt-out, standing).
            in_reply_to_buyer=replies_to_buyer,
            # How far the reply exemption from opt-out is used up (rule reply).
            reply=cs.reply_facts(buyer_message=in_reply_to if replies_to_buyer else None, buyer=order.buyer),
            sender_owns_order=sender_owns_order,
            now=now,
            scans=scans,  # made ahead of the decision (policy.context.prescan): only speed depends on them
        )
    )
    conversation, new_conversation = conversation_for(order, now=now)
    state = STATE_FOR_ACTION[decision.action]
    first = decision.reasons[0].code if decision.reasons else ""
    msg = inserts.create(
        Message,
        conversation=conversation,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        direction=direction,
        channel=channel,
        reason=reason,
        subject=subject[:998],
        body=body,
        state=state,
        state_code=first,
        critical=decision.critical,
        tagged=decision.tagged,
        created_at=now,
        delivered_at=now if state == Message.State.DELIVERED else None,
        rfc_message_id=rfc_message_id[:998],
        in_reply_to=in_reply_to,
        auto_reply=auto_reply,
        # The id the recipient's copy carries, whichever way it is sent.
        relay_message_id=make_msgid(domain=settings.RELAY_DOMAIN),
    )
    inserts.create(
        PolicyDecision,
        message=msg,
        action=decision.action,
        critical=decision.critical,
        tagged=decision.tagged,
        policy_mode=order.marketplace.policy_mode,
        hits=decision.to_json()["hits"],
        decided_at=now,
    )
    for f in attachments:
        inserts.create(
            Attachment,
            message=msg,
            seller_id=order.seller_id if direction == Message.Direction.SELLER_TO_BUYER else None,
            buyer_id=order.buyer_id if direction == Message.Direction.BUYER_TO_SELLER else None,
            filename=f.inspection.name,  # a safe name, its extension matching the type
            content_type=f.content_type,
            # Refused by name or content: kept for the record, downloadable by operators only.
            quarantined=not f.inspection.allowed,
            size=len(f.data),
            sha256=hashlib.sha256(f.data).hexdigest(),
            data=f.data,
        )
    if uploads:
        Attachment.objects.filter(pk__in=[u.pk for u in uploads]).update(message=msg)
    if not new_conversation:
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    from parley.api.webhooks import message_event

    message_event(msg)  # rows in the webhook outbox, committed with the message
    return msg, decision, new_conversation


def do_mark_no_response_needed(*, message: Message, now: dt.datetime | None = None) -> None:
    """The seller says this buyer message needs no answer: it leaves the 24-hour clock."""
    Message.objects.filter(pk=message.pk, direction=Message.Direction.BUYER_TO_SELLER).update(
        no_response_needed=True
    )
