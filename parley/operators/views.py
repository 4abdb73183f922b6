"""The operator console: dashboard, review queue and decisions, seller standing, settings editors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.contrib import messages as flash
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from parley.conversations import metrics
from parley.conversations.models import Flag, Message, Violation
from parley.core import time
from parley.core.errors import ActionError
from parley.core.storage import file_response
from parley.marketplace.models import Order, Seller
from parley.operators import actions, charts, presenters, selectors
from parley.operators.forms import (
    CategoryMappingForm,
    ContactReasonForm,
    DefaultGroupForm,
    MarketplacePolicyForm,
    StandingForm,
    mark_errors,
)
from parley.policy import selectors as policy_selectors

View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Anonymous: to the login page. Signed in but not staff (a seller, a buyer): 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_staff and request.user.is_active):
            raise PermissionDenied("Operators only.")
        return view(request, *args, **kwargs)

    return wrapper


def _lang() -> str:
    return get_language() or "en"


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    now = time.now()
    days_n = 30
    days, outcomes = selectors.outcomes_per_day(now=now, days=days_n)
    labels = {
        "delivered": _("Delivered"),
        "optout": _("Blocked: buyer opted out"),
        "content": _("Blocked: content"),
        "blocked": _("Blocked: other"),
        "bounced": _("Bounced"),
    }
    outcome_chart = charts.stacked_bars(
        title=_("Seller messages per day by outcome"),
        days=days,
        series=[(labels[k], outcomes[k]) for k in ("delivered", "optout", "content", "blocked", "bounced")],
        chart_id="chart-outcomes",
    )
    _d, flags = selectors.per_day(selectors.flags(), now=now, days=days_n, group="category")
    flag_chart = charts.stacked_bars(
        title=_("Buyer reports per day"),
        days=days,
        series=[(str(Flag.Category(k).label), v) for k, v in flags.items()] or [(_("Reports"), [0] * days_n)],
        chart_id="chart-flags",
    )
    _d, violations = selectors.per_day(selectors.violations(), now=now, days=days_n, group="kind")
    violation_chart = charts.stacked_bars(
        title=_("Violations per day"),
        days=days,
        series=[(str(Violation.Kind(k).label), v) for k, v in violations.items()]
        or [(_("Violations"), [0] * days_n)],
        chart_id="chart-violations",
    )
    daily = metrics.daily_response(now=now, days=days_n)
    response_chart = charts.line(
        title=_("Average response time (hours) by day the buyer wrote"),
        days=days,
        series=[
            (
                _("Average response (h)"),
                [
                    d.avg_response.total_seconds() / 3600 if d.avg_response is not None else None
                    for d in daily
                ],
            ),
        ],
        chart_id="chart-response",
    )
    late_chart = charts.line(
        title=_("Late responses (%) by day the buyer wrote"),
        days=days,
        series=[(_("Late (%)"), [100 * d.late / d.due if d.due else None for d in daily])],
        chart_id="chart-late",
        unit="%",
    )
    totals = {k: sum(v) for k, v in outcomes.items()}
    return render(
        request,
        "operators/dashboard.html",
        {
            "nav": "dashboard",
            "charts": [outcome_chart, flag_chart, violation_chart, response_chart, late_chart],
            "totals": [
                (labels[k], totals[k]) for k in ("delivered", "optout", "content", "blocked", "bounced")
            ],
            "open_flags": selectors.open_flags().count(),
            "open_violations": selectors.open_violations().count(),
            "sellers_by_status": selectors.sellers_by_status(),
            "days": days_n,
        },
    )


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "operators/queue.html",
        {
            "nav": "queue",
            "flags": list(selectors.open_flags()[:200]),
            "violations": list(selectors.open_violations()[:200]),
        },
    )


def _review_context(
    *, kind: str, item: Flag | Violation, message: Message | None, seller: Seller, now: dt.datetime
) -> dict[str, Any]:
    decision = selectors.decision_of(message) if message else None
    lang = _lang()
    place = selectors.queue_place(kind, item)
    return {
        "nav": "queue",
        "kind": kind,
        "item": item,
        kind: item,
        "message": message,
        "thread": presenters.thread_rows(
            selectors.conversation_around(message), reported=message, language=lang
        )
        if message
        else [],
        "decision": presenters.decision_view(decision, lang),
        "history": selectors.seller_history(seller, now=now),
        "attachments": list(message.attachments.all()) if message else [],
        "place": place,
        "skip": _item_url(place.next) if place and place.next else "",
    }


def _item_url(item: tuple[str, int]) -> str:
    kind, pk = item
    return reverse("operators:flag" if kind == "flag" else "operators:violation", args=[pk])


def _next_item(request: HttpRequest) -> HttpResponse:
    """After a decision: the next item waiting in the queue, or the queue saying it is empty."""
    nxt = selectors.next_open_item()
    if nxt is None:
        flash.info(request, _("The review queue is empty."))
        return redirect("operators:queue")
    return redirect(_item_url(nxt))


def _review(
    request: HttpRequest,
    *,
    kind: str,
    item: Flag | Violation,
    message: Message | None,
    seller: Seller,
    resolve: Callable[[object, object], object],
    done: dict[str, str],
) -> HttpResponse:
    """A review page: Uphold or Dismiss asks for a reason, then for confirmation, then opens the next item."""
    here = reverse("operators:flag" if kind == "flag" else "operators:violation", args=[item.pk])
    confirm = note_error = ""
    note = ""
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision")
        note = request.POST.get("note", "").strip()
        if decision not in ("uphold", "dismiss"):
            flash.error(request, _("Choose uphold or dismiss."))
            return redirect(here)
        try:
            if request.POST.get("confirm") == "yes":
                resolve(decision, note)
                flash.success(request, done[decision])
                return _next_item(request)
            actions.check_review_note(note=note)
            confirm = decision
        except ActionError as e:
            if e.field != "note":
                flash.error(request, e.text(_lang()))
                return redirect(here)
            note_error, status = e.text(_lang()), e.status
    ctx = _review_context(kind=kind, item=item, message=message, seller=seller, now=time.now())
    ctx.update({"confirm": confirm, "note": note, "note_error": note_error})
    return render(request, "operators/review.html", ctx, status=status)


@staff_required
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = selectors.access_flag(flag_id)
    return _review(
        request,
        kind="flag",
        item=flag,
        message=flag.message,
        seller=flag.message.seller,
        resolve=lambda decision, note: actions.check_resolve_flag(
            actor=request.user, flag_id=flag.pk, decision=decision, note=note
        ),
        done={
            "uphold": _("Report upheld: a violation was recorded."),
            "dismiss": _("Report dismissed."),
        },
    )


@staff_required
def violation_detail(request: HttpRequest, violation_id: int) -> HttpResponse:
    violation = selectors.access_violation(violation_id)
    return _review(
        request,
        kind="violation",
        item=violation,
        message=violation.message,
        seller=violation.seller,
        resolve=lambda decision, note: actions.check_resolve_violation(
            actor=request.user, violation_id=violation.pk, decision=decision, note=note
        ),
        done={"uphold": _("Violation upheld."), "dismiss": _("Violation dismissed.")},
    )


@staff_required
def sellers(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    page = Paginator(selectors.find_sellers(q=q, status=status), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "operators/sellers.html",
        {"nav": "sellers", "page": page, "q": q, "status": status, "statuses": Seller.Status.choices},
    )


@staff_required
def seller(request: HttpRequest, seller_id: str) -> HttpResponse:
    obj = selectors.access_seller(seller_id)
    form = StandingForm()
    if request.method == "POST":
        try:
            change = actions.check_set_standing(actor=request.user, seller_id=obj.pk, data=request.POST)
        except actions.FormInvalid as e:
            form = e.form
        else:
            flash.success(
                request,
                _("Standing changed to %(status)s.") % {"status": Seller.Status(change.to_status).label},
            )
            return redirect("operators:seller", seller_id=obj.pk)
    return render(
        request,
        "operators/seller.html",
        {
            "nav": "sellers",
            "history": selectors.seller_history(obj, now=time.now()),
            "form": mark_errors(form),
        },
        status=400 if form.is_bound else 200,
    )


@staff_required
def logins(request: HttpRequest) -> HttpResponse:
    """Sign-in lockouts, and unlocking one before it ends."""
    if request.method == "POST":
        try:
            actions.check_unlock_login(
                actor=request.user, kind=request.POST.get("kind"), value=request.POST.get("value")
            )
        except ActionError as e:
            flash.error(request, e.text(_lang()))
        else:
            flash.success(request, _("%(value)s can sign in again.") % {"value": request.POST.get("value")})
        return redirect("operators:logins")
    return render(request, "operators/logins.html", {"nav": "logins", "lockouts": selectors.login_lockouts()})


@staff_required
def settings_index(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    statuses = dict(Order.Status.choices)
    return render(
        request,
        "operators/settings.html",
        {
            "nav": "settings",
            "marketplaces": [
                {
                    "market": m,
                    "label": presenters.market_label(m, lang),
                    "tags": presenters.tag_words(m.tag_words, lang),
                    "cap": presenters.daily_cap(m.daily_cap_multiplier, m.daily_cap_base),
                    "ladder": presenters.enforcement_summary(m.enforcement or {}),
                }
                for m in selectors.marketplaces()
            ],
            "reasons": [
                {
                    "reason": r,
                    "name": r.name(lang),
                    "statuses": ("、" if lang.startswith("zh") else ", ").join(
                        str(statuses.get(v, v)) for v in r.order_statuses or []
                    ),
                }
                for r in policy_selectors.catalog()
            ],
            "changes": presenters.change_views(selectors.settings_changes()[:20], lang),
        },
    )


@staff_required
def marketplace_edit(request: HttpRequest, marketplace_id: str) -> HttpResponse:
    market = selectors.access_marketplace(marketplace_id)
    form = MarketplacePolicyForm(initial=MarketplacePolicyForm.initial_for(market))
    if request.method == "POST":
        try:
            change = actions.check_update_marketplace(
                actor=request.user, marketplace_id=market.pk, data=request.POST
            )
        except actions.FormInvalid as e:
            form = e.form
        else:
            flash.success(request, _("Settings saved.") if change else _("Nothing changed."))
            return redirect("operators:settings")
    return render(
        request,
        "operators/marketplace_edit.html",
        {
            "nav": "settings",
            "form": mark_errors(form),
            "title": _("Policy settings: %(name)s") % {"name": presenters.market_label(market, _lang())},
            "cap_words": presenters.daily_cap(market.daily_cap_multiplier, market.daily_cap_base),
            "ladder_words": presenters.enforcement_summary(market.enforcement or {}),
            "changes": presenters.change_views(
                selectors.settings_changes(kind="marketplace", object_id=market.pk)[:20],
                _lang(),
            ),
        },
        status=400 if form.is_bound else 200,
    )


@staff_required
def categories(request: HttpRequest, marketplace_id: str) -> HttpResponse:
    """A marketplace's category tree and the groups its nodes count as; the default group."""
    market = selectors.access_marketplace(marketplace_id)
    form = DefaultGroupForm(initial={"default_group": market.default_group_id})
    if request.method == "POST":
        try:
            change = actions.check_set_default_group(
                actor=request.user, marketplace_id=market.pk, data=request.POST
            )
        except actions.FormInvalid as e:
            form = e.form
        else:
            flash.success(request, _("Settings saved.") if change else _("Nothing changed."))
            return redirect("operators:categories", marketplace_id=market.pk)
    q = request.GET.get("q", "").strip()[:100]
    show = request.GET.get("show", "all")
    show = show if show in selectors.SHOW else "all"
    rows = selectors.marketplace_categories(market, q=q, show=show, language=_lang())
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    total, outside = selectors.category_counts(market)
    return render(
        request,
        "operators/categories.html",
        {
            "nav": "settings",
            "market": market,
            "market_label": presenters.market_label(market, _lang()),
            "form": mark_errors(form),
            "page": page,
            "q": q,
            "show": show,
            "total": total,
            "outside": outside,
        },
        status=400 if form.is_bound else 200,
    )


@staff_required
def category_edit(request: HttpRequest, marketplace_id: str, code: str) -> HttpResponse:
    node = selectors.access_category(marketplace_id, code)
    form = CategoryMappingForm(initial={"group": node.group_id or ""})
    if request.method == "POST":
        try:
            change = actions.check_map_category(
                actor=request.user, marketplace_id=marketplace_id, code=code, data=request.POST
            )
        except actions.FormInvalid as e:
            form = e.form
        else:
            flash.success(request, _("Settings saved.") if change else _("Nothing changed."))
            return redirect("operators:categories", marketplace_id=marketplace_id)
    return render(
        request,
        "operators/edit.html",
        {
            "nav": "settings",
            "form": mark_errors(form),
            "title": _("Category %(code)s (%(name)s) of %(market)s")
            % {"code": node.code, "name": node.name(_lang()), "market": node.marketplace_id},
            "back": (reverse("operators:categories", args=[marketplace_id]), _("Categories")),
            "changes": presenters.change_views(
                selectors.settings_changes(
                    kind="category", object_id=f"{node.marketplace_id}:{node.code}"[:64]
                )[:20],
                _lang(),
            ),
        },
        status=400 if form.is_bound else 200,
    )


@staff_required
def reason_edit(request: HttpRequest, code: str | None = None) -> HttpResponse:
    instance = selectors.access_reason(code) if code else None
    form = ContactReasonForm(instance=instance)
    if request.method == "POST":
        try:
            _reason, change = actions.check_save_reason(actor=request.user, code=code, data=request.POST)
        except actions.FormInvalid as e:
            form = e.form
        else:
            flash.success(request, _("Contact reason saved.") if change else _("Nothing changed."))
            return redirect("operators:settings")
    return render(
        request,
        "operators/edit.html",
        {
            "nav": "settings",
            "form": mark_errors(form),
            "title": _("Contact reason: %(name)s") % {"name": instance.name(_lang())}
            if instance
            else _("New contact reason"),
            "changes": presenters.change_views(
                selectors.settings_changes(kind="reason", object_id=code)[:20],
                _lang(),
            )
            if code
            else [],
        },
        status=400 if form.is_bound else 200,
    )


@staff_required
def history(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.settings_changes(), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "operators/history.html",
        {"nav": "settings", "page": page, "changes": presenters.change_views(page.object_list, _lang())},
    )


def not_found(request: HttpRequest) -> HttpResponse:
    raise Http404


@staff_required
def attachment(request: HttpRequest, attachment_id: str) -> HttpResponseBase:
    """Any attachment, quarantined ones included, for an operator: always a download, never typed as
    what it claims to be (a quarantined file is what a browser must not open)."""

    att = selectors.access_attachment(attachment_id)
    ctype = "application/octet-stream" if att.quarantined else att.content_type
    response = file_response(att.file, content_type=ctype)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(att.filename, safe='')}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
