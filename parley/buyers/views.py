"""Buyer message center: inbox, thread (read, reply, report, hide) and communication preferences."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parley.buyers import actions, selectors
from parley.conversations import actions as conv_actions
from parley.conversations.models import Flag
from parley.core import time
from parley.core.errors import ActionError
from parley.core.storage import file_response
from parley.core.uploads import read_uploads
from parley.marketplace import texts
from parley.marketplace.models import Buyer

View = Callable[..., HttpResponseBase]


def buyer_required(view: View) -> View:
    """Signed in, and signed in as a buyer (403 for sellers and staff)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        buyer = getattr(request.user, "buyer", None)
        if not isinstance(buyer, Buyer):
            raise PermissionDenied("Buyers only.")
        return view(request, buyer, *args, **kwargs)

    return wrapper


def why_not_delivered(msg: Any, language: str) -> str:
    """The policy's own words, in the buyer's language, for why their message did not get through."""
    decision = getattr(msg, "decision", None)
    hits = [
        h for h in (decision.hits if decision is not None else []) if h.get("effect") in ("reject", "hold")
    ]
    key = "zh" if language.startswith("zh") else "en"
    return " ".join(str(h.get(key) or h.get("en", "")) for h in hits)


def _lang() -> str:
    return get_language() or "en"


@buyer_required
def inbox(request: HttpRequest, buyer: Buyer) -> HttpResponse:
    page = Paginator(selectors.threads(buyer), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "buyers/inbox.html",
        {"page": page, "buyer": buyer, "unread_total": selectors.unread_total(buyer), "nav": "inbox"},
    )


@buyer_required
def thread(request: HttpRequest, buyer: Buyer, order_id: str) -> HttpResponse:
    order, conversation = selectors.access_thread(buyer, order_id)
    body = ""
    status = 200
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            files = [
                conv_actions.NewAttachment(filename=name, data=data) for name, data in read_uploads(request)
            ]
            msg = conv_actions.check_send_message(
                request=conv_actions.SendRequest(
                    channel="web",
                    sender=buyer,
                    order_id=order.id,
                    body=body,
                    attachments=files,
                    in_reply_to_id=request.POST.get("in_reply_to") or None,
                )
            ).message
        except ActionError as e:
            flash.error(request, e.text(_lang()))
            status = e.status if 400 <= e.status < 500 else 400
        else:
            if msg.state == "delivered":
                flash.success(
                    request, _("Your message was sent to %(seller)s.") % {"seller": order.seller.display_name}
                )
            else:
                why = why_not_delivered(msg, _lang())
                flash.warning(
                    request,
                    _("Your message could not be delivered: %(why)s") % {"why": why}
                    if why
                    else _("Your message could not be delivered."),
                )
            return redirect("buyers:thread", order_id=order.id)
    show_hidden = request.GET.get("show") == "hidden"
    msgs = list(selectors.thread_messages(conversation, show_hidden=show_hidden))
    for m in msgs:
        if m.direction == "buyer_to_seller" and m.state != "delivered":
            m.why = why_not_delivered(m, _lang())  # type: ignore[attr-defined]
    hidden_count = (
        0
        if conversation is None
        else selectors.thread_messages(conversation, show_hidden=True).filter(hidden_by_buyer=True).count()
    )
    if conversation is not None:
        actions.do_mark_read(buyer=buyer, conversation=conversation, now=_now())
    return render(
        request,
        "buyers/thread.html",
        {
            "order": order,
            "seller_name": order.seller.display_name,
            "msgs": msgs,
            "flagged_ids": {f.message_id for m in msgs for f in m.flags.all() if f.buyer_id == buyer.pk},
            "show_hidden": show_hidden,
            "hidden_count": hidden_count,
            "body": body,
            "nav": "inbox",
        },
        status=status,
    )


def _now() -> Any:
    return time.now()


@buyer_required
@require_POST
def mark_unread(request: HttpRequest, buyer: Buyer, order_id: str) -> HttpResponse:
    actions.check_mark_unread(buyer=buyer, order_id=order_id)
    return redirect("buyers:inbox")


@buyer_required
def flag(request: HttpRequest, buyer: Buyer, message_id: str) -> HttpResponse:
    message = selectors.access_seller_message(buyer, message_id)
    order = message.conversation.order
    existing = selectors.flag_of(buyer, message)
    error = ""
    if request.method == "POST" and existing is None:
        try:
            _flag, created = actions.check_flag_message(
                buyer=buyer,
                message_id=message_id,
                category=request.POST.get("category"),
                note=request.POST.get("note", ""),
                hide=request.POST.get("hide") == "1",
            )
        except ActionError as e:
            error = e.text(_lang())
        else:
            if created:
                flash.success(request, _("Thank you. We received your report and will review the message."))
            return redirect("buyers:thread", order_id=order.id)
    elif request.method == "POST":
        flash.info(request, _("You already reported this message."))
        return redirect("buyers:thread", order_id=order.id)
    return render(
        request,
        "buyers/flag.html",
        {
            "message": message,
            "order": order,
            "seller_name": message.seller.display_name,
            "existing": existing,
            "categories": Flag.Category.choices,
            "error": error,
            "posted": request.POST if request.method == "POST" else {},
            "nav": "inbox",
        },
    )


@buyer_required
@require_POST
def hide(request: HttpRequest, buyer: Buyer, message_id: str) -> HttpResponse:
    hidden = request.POST.get("hidden", "1") == "1"
    message = actions.check_set_hidden(buyer=buyer, message_id=message_id, hidden=hidden)
    flash.success(request, _("The message is hidden.") if hidden else _("The message is shown again."))
    return redirect("buyers:thread", order_id=message.conversation.order_id)


@buyer_required
def preferences(request: HttpRequest, buyer: Buyer) -> HttpResponse:
    if request.method == "POST":
        try:
            changed = actions.check_set_opt_out(buyer=buyer, value=request.POST.get("opted_out"))
        except ActionError as e:
            flash.error(request, e.text(_lang()))
        else:
            if changed:
                flash.success(
                    request,
                    _("Saved. You will no longer receive unsolicited messages from sellers.")
                    if buyer.opted_out
                    else _("Saved. You will receive all messages sellers send about your orders."),
                )
            return redirect("buyers:preferences")
    lang = _lang()
    return render(
        request,
        "buyers/preferences.html",
        {
            "buyer": buyer,
            "explanation": texts.opt_out_explanation(lang),
            "status_text": texts.pick(
                texts.OPTED_OUT_STATUS if buyer.opted_out else texts.OPTED_IN_STATUS, lang
            ),
            "nav": "preferences",
        },
    )


@buyer_required
def attachment(request: HttpRequest, buyer: Buyer, attachment_id: str) -> HttpResponseBase:
    att = selectors.access_attachment(buyer, attachment_id)
    response = file_response(att.file, content_type=att.content_type or "application/octet-stream")
    # Always a download: a file a seller sent must never render as a page on our origin.
    safe = att.filename.encode("ascii", "ignore").decode() or "attachment"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
