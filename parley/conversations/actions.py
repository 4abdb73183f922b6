"""All writes to conversations: check_* validates untrusted input, do_* records what it is given."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction

from parley.conversations import files, scrub, store
from parley.conversations import selectors as cs
from parley.conversations.models import Attachment, Conversation, Message, Violation
from parley.core import effects, metrics, time, uploads
from parley.core.errors import ActionError
from parley.marketplace import actions as marketplace_actions
from parley.marketplace import selectors as ms
from parley.marketplace.models import Buyer, Order, RelayAddress, Seller
from parley.policy import decide
from parley.policy.content import Scan
from parley.policy.filecheck import Inspection, inspect_file
from parley.policy.models import ContactReason
from parley.policy.types import AttachmentFacts, Decision, Hit, ReplyFacts, Submission

log = logging.getLogger(__name__)

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


def do_assign_relay_message_id(*, message: Message) -> str:
    """Give a message recorded without one the Message-ID its relayed copies carry."""
    message.relay_message_id = make_msgid(domain=settings.RELAY_DOMAIN)
    Message.objects.filter(pk=message.pk).update(relay_message_id=message.relay_message_id)
    return message.relay_message_id


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
    conv = store.create_conversation(order=order, now=now)
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


def clean_filename(name: str) -> str:
    """A sender's file name as Parley keeps it: the base name only, without control characters (it
    ends up in MIME headers and HTML). Channels that name files before sending use it too."""
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
                f"{clean_filename(f.filename)} is larger than 10 MB.",
                f"{clean_filename(f.filename)} 超过 10 MB。",
                status=413,
                field="attachments",
            )
    # The same object when the name is already clean: its inspection is made once.
    return [
        f if clean_filename(f.filename) == f.filename else NewAttachment(clean_filename(f.filename), f.data)
        for f in attachments
    ]


@dataclass(frozen=True, kw_only=True)
class SendRequest:
    """One message as a channel received it, in either direction.

    `sender` is who the channel authenticated (a seller, or a buyer). The order is named by id (web,
    API: looked up among the sender's own orders) or given (email: found by the relay address's pair;
    the engine's ownership rule judges it). `body` is the message as the recipient will read it: for
    email every displayed part (`parts` says where each begins)."""

    channel: str  # Message.Channel
    sender: Seller | Buyer
    order_id: str = ""
    order: Order | None = None
    reason_code: str | None = None
    subject: str | None = None  # email: the decoded subject; None: Parley's own for the channel
    raw_subject: str | None = None  # email: the Subject as it came (the engine decodes it)
    body: str = ""
    parts: tuple[tuple[str, int], ...] = ()
    attachments: Sequence[NewAttachment] = ()
    upload_ids: Sequence[str] = ()
    in_reply_to_id: str | None = None  # web, API: the public id of the message answered
    references: Sequence[str] = ()  # email: In-Reply-To, else References, as Message-IDs
    rfc_message_id: str = ""
    auto_reply: bool = False
    # The sender's real addresses (besides the buyer's own), replaced in what is recorded and
    # relayed by `alias` (default: the sender's relay address for this pair).
    hide: Sequence[str] = ()
    alias: str = ""
    outbound: Outbound | None = None  # builds the recipient's mail; default: Parley composes it
    scans: tuple[Scan, ...] = ()  # made ahead of the decision (policy.context.prescan): speed only
    now: dt.datetime | None = None

    @property
    def direction(self) -> str:
        if isinstance(self.sender, Buyer):
            return Message.Direction.BUYER_TO_SELLER
        return Message.Direction.SELLER_TO_BUYER


@dataclass(frozen=True, kw_only=True)
class CheckedSend:
    """A SendRequest that check_send_message accepted, with what it looked up."""

    request: SendRequest
    order: Order
    reason: ContactReason | None
    subject: str
    raw_subject: str | None
    in_reply_to: Message | None
    files: tuple[NewAttachment, ...]
    # An earlier upload (SP-API, /api/v1) with its bytes, judged under the name the message gives it.
    uploads: tuple[tuple[Attachment, NewAttachment], ...]
    now: dt.datetime


@dataclass(frozen=True)
class SendResult:
    """What became of a message: its record, the state (delivered / held / blocked / bounced) and every hit."""

    message: Message
    decision: Decision

    @property
    def state(self) -> str:
        return self.message.state

    @property
    def hits(self) -> tuple[Hit, ...]:
        return self.decision.hits

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(h.code for h in self.decision.hits)

    @property
    def refused(self) -> bool:
        return self.message.state in (Message.State.BLOCKED, Message.State.BOUNCED)

    @property
    def reasons(self) -> tuple[Hit, ...]:
        """The hits that stopped or held the message."""
        return self.decision.reasons


def _reply_target(order: Order, message_id: str | None) -> Message | None:
    if not message_id:
        return None
    msg = Message.objects.filter(public_id=message_id, conversation__order=order).first()
    if msg is None:
        raise ActionError(
            "message.not_found", "No such message.", "没有这条消息。", status=404, field="in_reply_to"
        )
    return msg


def _referenced(order: Order, wanted: Sequence[str]) -> Message | None:
    """The message of this order's conversation that a mail answers, by its Message-IDs."""
    if not wanted:
        return None
    try:
        conversation_id = order.conversation.pk  # no query when read with select_related
    except Conversation.DoesNotExist:
        return None
    known = cs.find_referenced(conversation_id, wanted)
    for message_id in wanted:
        if message_id in known:
            return known[message_id]
    return None


def _uploads(
    sender: Seller | Buyer, upload_ids: Sequence[str]
) -> tuple[tuple[Attachment, NewAttachment], ...]:
    """The sender's unused uploads, each with its bytes under the name the message gave it: judged by
    name and content here, exactly as a file sent with the message (an upload is not refused when it
    arrives, so the same file gets the same decision and record from every channel)."""
    if not upload_ids:
        return ()
    uploads: tuple[Attachment, ...] = ()
    if isinstance(sender, Seller):
        uploads = tuple(
            Attachment.objects.filter(public_id__in=list(upload_ids), seller=sender, message__isnull=True)
        )
    if len(uploads) != len(set(upload_ids)):
        raise ActionError(
            "attachments.unknown_upload",
            "An attachment refers to an upload that does not exist or was already used.",
            "附件引用的上传文件不存在或已被使用。",
            status=400,
            field="attachments",
        )
    return tuple((u, NewAttachment(filename=u.filename, data=files.read(u.file))) for u in uploads)


def check_send_message(*, request: SendRequest) -> SendResult:
    """Validate one message from any channel, then decide, record and queue it (do_send_message).

    Refuses (ActionError, nothing recorded) what is not a message at all: an order that is not the
    sender's, an unknown or missing contact reason or reply target, text that is not text, no text
    and no file (body.empty), a file over 10 MB. Everything else, a file refused by its name or
    content included, is decided by the policy engine and recorded, whatever the verdict: the same
    for every channel, so no channel refuses a message on its own."""
    sender = request.sender
    if request.order is not None:
        order = request.order
    elif isinstance(sender, Buyer):
        order = ms.access_order_for_buyer(sender, request.order_id)
    else:
        order = ms.access_order_for_seller(sender, request.order_id)
    _require_text(request.body)
    from_seller = request.direction == Message.Direction.SELLER_TO_BUYER
    reason = (
        _reason(request.reason_code) if from_seller and request.channel != Message.Channel.EMAIL else None
    )
    if request.in_reply_to_id:
        in_reply_to = _reply_target(order, request.in_reply_to_id)
        if (
            from_seller
            and in_reply_to is not None
            and in_reply_to.direction != Message.Direction.BUYER_TO_SELLER
        ):
            raise ActionError(
                "message.not_buyer_message",
                "You can only reply to a buyer's message.",
                "只能回复买家的消息。",
            )
    else:
        in_reply_to = _referenced(order, request.references)
    if from_seller and request.channel != Message.Channel.EMAIL and reason is None and in_reply_to is None:
        raise ActionError(
            "reason.missing",
            "Choose one of the available contact reasons.",
            "请选择一个可用的联系原因。",
            field="reason",
        )
    if not request.body.strip() and not request.attachments and not request.upload_ids:
        # Nothing to send at all, from any channel: refused like a form left blank, never recorded.
        raise ActionError("body.empty", "Write a message.", "请填写消息内容。", field="body")
    files = tuple(_checked_files(request.attachments))
    uploads = _uploads(sender, request.upload_ids)
    if request.subject is not None:
        subject = request.subject
    elif not from_seller:
        subject = _buyer_subject(order)
    elif reason is not None:
        subject = reason.subject(order_id=order.id, language=order.buyer.locale)
    else:
        subject = _reply_subject(order)
    return do_send_message(
        send=CheckedSend(
            request=request,
            order=order,
            reason=reason,
            subject=subject,
            raw_subject=request.raw_subject,
            in_reply_to=in_reply_to,
            files=files,
            uploads=uploads,
            now=request.now or time.now(),
        )
    )


def _reply_subject(order: Order) -> str:
    if order.buyer.locale.lower().startswith("zh"):
        return f"回复：关于订单 {order.id} 的消息"
    return f"Re: your message about order {order.id}"


def _buyer_subject(order: Order) -> str:
    """The subject of a buyer's web message, in the buyer's language like the rest of their thread."""
    if order.buyer.locale.startswith("zh"):
        return f"关于订单 {order.id} 的消息"
    return f"Message about order {order.id}"


def _hidden(send: CheckedSend) -> tuple[list[str], Callable[[], str]]:
    """The real addresses that must not reach the recipient, and (lazily) what replaces them."""
    request, order = send.request, send.order
    if request.direction == Message.Direction.BUYER_TO_SELLER:
        hide, kind = [order.buyer.email, *request.hide], RelayAddress.Kind.BUYER
    else:
        hide, kind = list(request.hide), RelayAddress.Kind.SELLER

    def alias() -> str:
        return (
            request.alias
            or marketplace_actions.do_relay_address(
                buyer=order.buyer, seller=order.seller, kind=kind
            ).address()
        )

    return hide, alias


def _scrubbed(text: str, hide: Sequence[str], alias: Callable[[], str]) -> str:
    if not hide or not scrub.occurs(text, hide):
        return text
    return scrub.scrub(text, hide, alias())


def do_send_message(*, send: CheckedSend) -> SendResult:
    """Decide on a checked message and record it with the decision, in one transaction; queue its
    delivery when delivered. The buyer's (and an email sender's) real address is replaced first, so
    the engine judges, the record keeps and the recipient gets the same text.

    Inside a caller's transaction it takes no savepoint of its own (see _in_callers_transaction)."""
    request, order, now = send.request, send.order, send.now
    direction = request.direction
    from_seller = direction == Message.Direction.SELLER_TO_BUYER
    hide, alias = _hidden(send)
    body = _scrubbed(request.body, hide, alias)
    subject = _scrubbed(send.subject, hide, alias)
    raw_subject = send.raw_subject
    if raw_subject is not None and subject != send.subject:
        raw_subject = subject  # the engine reads the subject the recipient will get
    facts = [a.facts() for a in (*send.files, *(f for _, f in send.uploads))]
    sender = request.sender
    # The sender as the order was read with it (fresh), unless the order is someone else's.
    seller = order.seller if not isinstance(sender, Seller) or sender.pk == order.seller_id else sender
    buyer = order.buyer if not isinstance(sender, Buyer) or sender.pk == order.buyer_id else sender
    in_reply_to = send.in_reply_to
    replies_to_buyer = (
        from_seller and in_reply_to is not None and in_reply_to.direction == Message.Direction.BUYER_TO_SELLER
    )
    with _in_callers_transaction():
        decision = decide(
            build_submission(
                order=order,
                seller=seller,
                buyer=buyer,
                direction=direction,
                channel=request.channel,
                reason=send.reason,
                # The engine reads an email's subject as it came (encoded-words and all).
                subject=raw_subject if raw_subject is not None else subject,
                body=body,
                parts=request.parts if body is request.body else (),
                attachments=facts,
                # Only a seller's answer to the buyer's own message counts as a reply (opt-out, standing).
                in_reply_to_buyer=replies_to_buyer,
                # How far the reply exemption from opt-out is used up (rule reply).
                reply=cs.reply_facts(
                    buyer_message=in_reply_to if replies_to_buyer else None, buyer=order.buyer, seller=seller
                ),
                now=now,
                scans=request.scans,
            )
        )
        msg, new_conversation = _record(
            send=send, decision=decision, subject=subject, body=body, direction=direction
        )
        if from_seller:
            for hit in decision.violations:
                store.insert_violation(
                    seller=seller,
                    message=msg,
                    kind=Violation.Kind.TAG_MISUSE if hit.code.startswith("tag.") else Violation.Kind.OTHER,
                    detail=f"{hit.code}: {hit.en}",
                    created_at=now,
                )
        if (
            from_seller
            and msg.state == Message.State.DELIVERED
            and not request.auto_reply
            and not new_conversation
        ):
            # Any answer the seller actually delivers stops the buyer's 24-hour clock; an
            # automatic reply (out-of-office, "we got your mail") is not an answer.
            store.mark_responded(conversation_id=msg.conversation_id, now=now)
        if msg.state == Message.State.DELIVERED:
            if request.outbound is not None:
                request.outbound(msg)
            else:
                effects.record(effects.NotifyRecipient(msg))
    return SendResult(message=msg, decision=decision)


def build_submission(
    *,
    order: Order,
    seller: Seller,
    buyer: Buyer,
    direction: str,
    channel: str,
    reason: ContactReason | None,
    subject: str,
    body: str,
    attachments: Sequence[AttachmentFacts],
    in_reply_to_buyer: bool,
    now: dt.datetime,
    parts: tuple[tuple[str, int], ...] = (),
    scans: tuple[Scan, ...] = (),
    reply: ReplyFacts | None = None,
) -> Submission:
    """The facts the engine decides on: the seller and buyer are the message's (the sender, or the
    order's other party), so the ownership rule compares them with the order's."""
    market = order.marketplace
    counted = ms.tallies(order, now=now)
    return Submission(
        channel=channel,  # type: ignore[arg-type]
        direction=direction,  # type: ignore[arg-type]
        marketplace=ms.marketplace_facts(order),
        seller=ms.seller_facts(
            seller,
            now=now,
            sent_today=counted.sent_today,
            multiplier=market.daily_cap_multiplier,
            base=market.daily_cap_base,
        ),
        buyer=ms.buyer_facts(buyer),
        order=ms.order_facts(order, counted=counted),
        now=now,
        reason=reason.spec() if reason else None,
        subject=subject,
        body=body,
        parts=parts,
        attachments=tuple(attachments),
        sender_owns_order=seller.id == order.seller_id and buyer.id == order.buyer_id,
        in_reply_to_buyer=in_reply_to_buyer,
        reply=reply,
        scans=scans,
    )


def _record(
    *, send: CheckedSend, decision: Decision, subject: str, body: str, direction: str
) -> tuple[Message, bool]:
    """The message with its decision, files and webhook rows; and whether it started its conversation."""
    request, order, now = send.request, send.order, send.now
    conversation, new_conversation = conversation_for(order, now=now)
    state = STATE_FOR_ACTION[decision.action]
    first = decision.reasons[0].code if decision.reasons else ""
    msg = store.insert_message(
        conversation=conversation,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        direction=direction,
        channel=request.channel,
        reason=send.reason,
        subject=subject[:998],
        body=body,
        state=state,
        state_code=first,
        critical=decision.critical,
        tagged=decision.tagged,
        created_at=now,
        delivered_at=now if state == Message.State.DELIVERED else None,
        rfc_message_id=request.rfc_message_id[:998],
        in_reply_to=send.in_reply_to,
        auto_reply=request.auto_reply,
        # The id the recipient's copy carries, whichever way it is sent.
        relay_message_id=make_msgid(domain=settings.RELAY_DOMAIN),
    )
    store.insert_decision(
        message=msg,
        action=decision.action,
        critical=decision.critical,
        tagged=decision.tagged,
        policy_mode=order.marketplace.policy_mode,
        hits=decision.to_json()["hits"],
        decided_at=now,
    )
    from_seller = direction == Message.Direction.SELLER_TO_BUYER
    for f in send.files:
        # The file is durable before the row that names it commits (it only grows the storage if the
        # transaction rolls back: parley collect-attachments removes what no row names).
        sha256, name = files.put(f.data)
        store.insert_attachment(
            message=msg,
            seller_id=order.seller_id if from_seller else None,
            buyer_id=None if from_seller else order.buyer_id,
            filename=f.inspection.name,  # a safe name, its extension matching the type
            content_type=f.content_type,
            # Refused by name or content: kept for the record, downloadable by operators only.
            quarantined=not f.inspection.allowed,
            size=len(f.data),
            sha256=sha256,
            file=name,
        )
    for upload, f in send.uploads:
        Attachment.objects.filter(pk=upload.pk).update(
            message=msg,
            filename=f.inspection.name,
            content_type=f.content_type,
            quarantined=not f.inspection.allowed,
        )
    if not new_conversation:
        store.touch_conversation(conversation_id=conversation.pk, now=now)
    effects.record(effects.MessageRecorded(msg))  # rows in the webhook outbox, committed with the message
    # Counted once the message is durable (a rolled-back savepoint drops the count with it).
    codes = [h.code for h in decision.hits]
    log.info(
        "message %s %s by %s: %s (%s)",
        msg.public_id,
        direction,
        request.channel,
        decision.action,
        ", ".join(codes) or "no hits",
        extra={"message_id": msg.public_id},
    )
    transaction.on_commit(
        functools.partial(metrics.decided, request.channel, direction, decision.action, codes)
    )
    return msg, new_conversation


def do_mark_no_response_needed(*, message: Message, now: dt.datetime | None = None) -> None:
    """The seller says this buyer message needs no answer: it leaves the 24-hour clock."""
    Message.objects.filter(pk=message.pk, direction=Message.Direction.BUYER_TO_SELLER).update(
        no_response_needed=True
    )
