"""Seller Central pages: Manage Orders, order details, Contact Buyer, messages and settings."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from parley.conversations import selectors as cs
from parley.conversations.actions import (
    NewAttachment,
    SendRequest,
    check_send_message,
    clean_filename,
    do_mark_no_response_needed,
)
from parley.conversations.models import Message
from parley.core import time
from parley.core.errors import ActionError
from parley.core.storage import file_response
from parley.core.uploads import read_uploads
from parley.marketplace import actions as market_actions
from parley.marketplace import selectors as ms
from parley.marketplace.models import Order, Seller
from parley.marketplace.texts import opt_out_explanation
from parley.policy import available_reasons
from parley.policy import selectors as policy_selectors
from parley.policy.models import ContactReason
from parley.sellercentral import presenters
from parley.sellercentral.forms import AddSenderForm, OrderFilterForm
from parley.sellercentral.queries import OrderFilter, search_orders

View = Callable[..., HttpResponseBase]


def seller_view(fn: View) -> View:
    """Login required; the user must be a seller; dates shown in the seller's time zone."""

    @login_required
    @functools.wraps(fn)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        seller = ms.seller_of(request.user)
        if seller is None:
            raise PermissionDenied("Not a seller account.")
        try:
            timezone.activate(zoneinfo.ZoneInfo(seller.timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo("UTC"))
        return fn(request, seller, *args, **kwargs)

    return wrapper


def _ctx(request: HttpRequest, seller: Seller, section: str, **kw: Any) -> dict[str, Any]:
    kw.update(seller=seller, section=section)
    return kw


@seller_view
def home(request: HttpRequest, seller: Seller) -> HttpResponse:
    return redirect("sellercentral:orders")


@seller_view
def orders(request: HttpRequest, seller: Seller) -> HttpResponse:
    form = OrderFilterForm(request.GET or None, tz=timezone.get_current_timezone())
    filt = OrderFilter()
    if form.is_bound:
        # Fills cleaned_data with the valid fields: they still apply when another one is not.
        form.is_valid()
        filt = form.to_filter()
    page = search_orders(seller, filt)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sellercentral/orders.html",
        _ctx(
            request,
            seller,
            "orders",
            form=form,
            page=page,
            query=query.urlencode(),
            rows=presenters.order_rows(page.orders, reverse("sellercentral:orders")),
        ),
    )


def _history(order: Order) -> list[dict[str, Any]]:
    rows = cs.order_history(order)
    lang = get_language() or "en"
    out = []
    for m in rows:
        out.append(
            {
                "msg": m,
                "reason_name": m.reason.name(lang) if m.reason else "",
                "why": presenters.why_text(m)
                if m.state in (Message.State.BLOCKED, Message.State.BOUNCED, Message.State.HELD)
                else "",
            }
        )
    return out


def _mail_subject(order: Order) -> str:
    """The subject the order page's mail link starts with: the order number, in the buyer's language,
    so the gateway files the mail under this order (the relay address serves all of the buyer's)."""
    with translation.override("zh-hans" if (order.buyer.locale or "").startswith("zh") else "en"):
        return _("About your order %(id)s") % {"id": order.id}


@seller_view
def order(request: HttpRequest, seller: Seller, order_id: str) -> HttpResponse:
    return _render_order(request, seller, ms.access_order_for_seller(seller, order_id))


def _render_order(
    request: HttpRequest,
    seller: Seller,
    obj: Order,
    *,
    error_for: str = "",
    error: str = "",
    body: str = "",
    status: int = 200,
) -> HttpResponse:
    items = list(obj.items.select_related("category", "marketplace_category").order_by("id"))
    for it in items:
        it.category_label = it.category_name(get_language() or "en")  # type: ignore[attr-defined]
    history = _history(obj)
    return render(
        request,
        "sellercentral/order.html",
        _ctx(
            request,
            seller,
            "orders",
            order=obj,
            items=items,
            relay=market_actions.do_buyer_relay_address(order=obj),
            mail_subject=_mail_subject(obj),
            history=history,
            # The reply form answers the buyer's latest message that reached the seller.
            reply_to=next(
                (
                    row["msg"]
                    for row in reversed(history)
                    if row["msg"].direction == Message.Direction.BUYER_TO_SELLER
                    and row["msg"].state not in (Message.State.BLOCKED, Message.State.BOUNCED)
                ),
                None,
            ),
            error_for=error_for,
            error=error,
            body=body,
        ),
        status=status,
    )


def reason_choices(order: Order, now: dt.datetime) -> list[presenters.ReasonChoice]:
    """Every active reason, with whether the policy makes it available for this order and why not."""
    reasons = {r.code: r for r in policy_selectors.active_reasons()}
    out = []
    for av in available_reasons([r.spec() for r in reasons.values()], ms.order_facts(order, now=now), now):
        why = ""
        if not av.available:
            # The catalog's short line first; the engine's own words when the catalog has none.
            row = reasons[av.reason.code]
            why = presenters.pick(row.unavailable_en, row.unavailable_zh)
            if not why and av.hits:
                why = presenters.pick(av.hits[0].en, av.hits[0].zh)
            why = why or _("Not available for this order.")
        out.append(presenters.ReasonChoice(reason=reasons[av.reason.code], available=av.available, why=why))
    return out


def _uploads(request: HttpRequest) -> list[NewAttachment]:
    """The uploaded files as NewAttachment, refusing oversize ones before reading them. A file refused
    by its name or content is the policy's to judge, as for email: recorded, quarantined."""
    return [NewAttachment(filename=clean_filename(name), data=data) for name, data in read_uploads(request)]


@seller_view
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, seller: Seller, order_id: str) -> HttpResponse:
    obj = ms.access_order_for_seller(seller, order_id)
    now = time.now()
    choices = reason_choices(obj, now)
    standing = presenters.standing_preflight(seller, choices, now)
    available = {c.code: c for c in choices if c.available}
    error = ""
    status = 200
    data = request.POST if request.method == "POST" else request.GET
    chosen = data.get("reason", "")
    body = request.POST.get("body", "") if request.method == "POST" else ""
    source = request.GET.get("from", "")
    if request.method == "GET" and source:
        # "Write again" after a block: start from the text of that message (only if it is ours).
        prev = cs.access_message_for_seller(
            seller, source, order=obj, direction=Message.Direction.SELLER_TO_BUYER
        )
        body = prev.body
        chosen = chosen or (prev.reason_id or "")
    if request.method == "POST":
        try:
            # A missing reason or an empty message is the send action's to refuse, as from every
            # channel; an unavailable reason or a refused file the policy's, recorded like any refusal.
            msg = check_send_message(
                request=SendRequest(
                    channel="web",
                    sender=seller,
                    order_id=obj.id,
                    reason_code=chosen,
                    body=body,
                    attachments=_uploads(request),
                    now=now,
                )
            ).message
        except ActionError as e:
            error = e.text(get_language())
            status = e.status if 400 <= e.status < 500 else 400
        else:
            return redirect("sellercentral:message", order_id=obj.id, message_id=msg.public_id)
    if chosen not in available:
        chosen = ""
    selected = available.get(chosen)
    lang = obj.buyer.locale or "en"
    for c in choices:
        c.subject = c.reason.subject(order_id=obj.id, language=lang)
    return render(
        request,
        "sellercentral/contact.html",
        _ctx(
            request,
            seller,
            "orders",
            order=obj,
            standing=standing,
            available=[c for c in choices if c.available],
            unavailable=[c for c in choices if not c.available],
            chosen=chosen,
            selected=selected,
            subject=selected.subject if selected else "",
            # The file input only where the chosen reason (or, with none chosen yet, any) takes files.
            show_attachments=any(
                c.reason.attachments != ContactReason.Attachments.NONE
                for c in ([selected] if selected else [c for c in choices if c.available])
            ),
            body=body,
            error=error,
            # The very words buyers read on their preferences page, so both sides hear the same rule.
            opt_out_words=opt_out_explanation(get_language()),
            max_length=selected.reason.max_length
            if selected
            else max((c.reason.max_length for c in choices if c.available), default=2000),
        ),
        status=status,
    )


@seller_view
def message_outcome(request: HttpRequest, seller: Seller, order_id: str, message_id: str) -> HttpResponse:
    obj = ms.access_order_for_seller(seller, order_id)
    msg = cs.access_message_for_seller(
        seller, message_id, order=obj, direction=Message.Direction.SELLER_TO_BUYER
    )
    return render(
        request,
        "sellercentral/outcome.html",
        _ctx(
            request,
            seller,
            "orders",
            order=obj,
            msg=msg,
            outcome=presenters.outcome_of(msg),
            reason_name=msg.reason.name(get_language() or "en") if msg.reason else "",
        ),
    )


def _render_messages(
    request: HttpRequest,
    seller: Seller,
    *,
    error_for: str = "",
    error: str = "",
    body: str = "",
    status: int = 200,
) -> HttpResponse:
    now = time.now()
    rows = []
    for m in cs.awaiting_answer(seller)[:200]:
        clock, overdue = presenters.response_clock(m, now)
        rows.append(
            {"msg": m, "clock": clock, "overdue": overdue, "due": m.created_at + presenters.RESPONSE_CLOCK}
        )
    return render(
        request,
        "sellercentral/messages.html",
        _ctx(request, seller, "messages", rows=rows, error_for=error_for, error=error, body=body),
        status=status,
    )


@seller_view
def messages_awaiting(request: HttpRequest, seller: Seller) -> HttpResponse:
    return _render_messages(request, seller)


def _buyer_message(seller: Seller, message_id: str) -> Message:
    return cs.access_message_for_seller(seller, message_id, direction=Message.Direction.BUYER_TO_SELLER)


@seller_view
@require_POST
def reply(request: HttpRequest, seller: Seller, message_id: str) -> HttpResponse:
    target = _buyer_message(seller, message_id)
    body = request.POST.get("body", "")
    try:
        msg = check_send_message(
            request=SendRequest(
                channel="web",
                sender=seller,
                order_id=target.conversation.order_id,
                body=body,
                attachments=_uploads(request),
                in_reply_to_id=target.public_id,
            )
        ).message
    except ActionError as e:
        shown: dict[str, Any] = {
            "error_for": target.public_id,
            "error": e.text(get_language()),
            "body": body,
            "status": e.status if 400 <= e.status < 500 else 400,
        }
        # The error shows on the page the reply was written on: the order page or Messages.
        if request.POST.get("back") == "order":
            return _render_order(
                request, seller, ms.access_order_for_seller(seller, target.conversation.order_id), **shown
            )
        return _render_messages(request, seller, **shown)
    return redirect("sellercentral:message", order_id=target.conversation.order_id, message_id=msg.public_id)


@seller_view
@require_POST
def no_response(request: HttpRequest, seller: Seller, message_id: str) -> HttpResponse:
    target = _buyer_message(seller, message_id)
    do_mark_no_response_needed(message=target, now=time.now())
    flash.success(request, _("Marked as not needing a response."))
    return redirect("sellercentral:messages")


@seller_view
def attachment(request: HttpRequest, seller: Seller, attachment_id: str) -> HttpResponseBase:
    att = cs.access_attachment_for_seller(seller, attachment_id)
    resp = file_response(att.file, content_type=att.content_type or "application/octet-stream")
    # Always a download, never rendered inline: the bytes come from other people.
    resp["Content-Disposition"] = content_disposition_header(True, att.filename)
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp["Cache-Control"] = "private, no-store"
    return resp


@seller_view
@require_http_methods(["GET", "POST"])
def permissions(request: HttpRequest, seller: Seller) -> HttpResponse:
    form = AddSenderForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            sender = market_actions.check_add_authorized_sender(
                seller=seller, email=form.cleaned_data["email"]
            )
        except ActionError as e:
            form.add_error("email", e.text(get_language()))
            status = e.status  # 400, or 429 while confirmation mails are cooling down
        else:
            flash.success(
                request,
                _("We sent a confirmation link to %(email)s. The address works once it is confirmed.")
                % {"email": sender.email},
            )
            return redirect("sellercentral:permissions")
    elif request.method == "POST":
        status = 400
    senders = ms.authorized_senders(seller)
    return render(
        request,
        "sellercentral/permissions.html",
        _ctx(request, seller, "settings", form=form, senders=senders),
        status=status,
    )


@seller_view
@require_POST
def remove_sender(request: HttpRequest, seller: Seller, sender_id: int) -> HttpResponse:
    try:
        market_actions.check_remove_authorized_sender(
            seller=seller, sender_id=sender_id, last_confirmed_ok=request.POST.get("confirm") == "yes"
        )
    except ActionError as e:
        if e.code != "sender.last_confirmed":
            raise
        # Asked, not refused: the page says what removing it means and offers both answers.
        sender = ms.access_sender_for_seller(seller, sender_id)
        return render(
            request,
            "sellercentral/remove_sender.html",
            _ctx(request, seller, "settings", sender=sender, question=e.text(get_language())),
        )
    flash.success(request, _("The address was removed."))
    return redirect("sellercentral:permissions")


@require_http_methods(["GET", "POST"])
def confirm_sender(request: HttpRequest, token: str) -> HttpResponse:
    """Opened from the mailed link; no login needed, the token proves control of the mailbox.

    GET only shows a button, so link scanners that prefetch URLs cannot confirm on their own.
    """
    if request.method == "POST":
        sender = market_actions.check_confirm_authorized_sender(raw_token=token)
        return render(request, "sellercentral/confirm_sender.html", {"sender": sender, "done": True})
    sender = market_actions.sender_for_token(token)
    return render(request, "sellercentral/confirm_sender.html", {"sender": sender, "done": False})


@seller_view
def mail_client_help(request: HttpRequest, seller: Seller) -> HttpResponse:
    return render(
        request,
        "sellercentral/mail_client.html",
        _ctx(
            request,
            seller,
            "help",
            senders=ms.authorized_senders(seller, confirmed=True),
            max_bytes_mb=10,
        ),
    )
