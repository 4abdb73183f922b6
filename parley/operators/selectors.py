"""Reads for the operator console: the review queue, a seller's history, dashboard series."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from parley.conversations import metrics
from parley.conversations.metrics import UtcDate
from parley.conversations.models import Attachment, Flag, Message, PolicyDecision, Violation
from parley.marketplace import enforcement
from parley.marketplace.models import (
    Marketplace,
    MarketplaceCategory,
    ProductCategory,
    Seller,
    StandingChange,
)
from parley.operators.models import SettingsChange
from parley.policy import selectors as policy_selectors
from parley.policy.models import ContactReason


def open_flags() -> QuerySet[Flag]:
    return (
        Flag.objects.filter(status=Flag.Status.OPEN)
        .select_related("message__seller", "message__reason", "buyer")
        .order_by("created_at", "id")
    )


def open_violations() -> QuerySet[Violation]:
    return (
        Violation.objects.filter(status=Violation.Status.OPEN)
        .select_related("seller", "message__reason", "message__decision")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class SellerHistory:
    seller: Seller
    explanation: str
    upheld_in_window: int
    thresholds: enforcement.Thresholds
    next_step: tuple[str, int] | None  # the next step down the ladder and the upheld count that takes it
    changes: list[StandingChange]
    violations: list[Violation]
    flags: dict[str, int]
    recent_flags: list[Flag]
    response: list[metrics.ResponseStats]
    messages_sent_30d: int


def seller_history(seller: Seller, *, now: dt.datetime) -> SellerHistory:
    t = enforcement.thresholds(enforcement.seller_marketplace(seller))
    count = enforcement.upheld_count(seller, now=now, window_days=t.window_days)
    next_step = None
    for key in enforcement.THRESHOLD_KEYS:
        step = enforcement.STEP_FOR_KEY[key]
        if enforcement.rank(step) > enforcement.rank(seller.status):
            next_step = (str(Seller.Status(step).label), int(getattr(t, key)))
            break
    flag_counts = dict(
        Flag.objects.filter(message__seller=seller).values_list("status").annotate(n=Count("id")).order_by()
    )
    return SellerHistory(
        seller=seller,
        explanation=str(enforcement.STANDING_EXPLANATION.get(Seller.Status(seller.status), "")),
        upheld_in_window=count,
        thresholds=t,
        next_step=next_step,
        changes=list(StandingChange.objects.filter(seller=seller).select_related("actor")[:50]),
        violations=list(
            Violation.objects.filter(seller=seller)
            .select_related("message__decision")
            .prefetch_related("decisions__actor")
            .order_by("-created_at", "-id")[:50]
        ),
        flags={s.value: flag_counts.get(s.value, 0) for s in Flag.Status},
        recent_flags=list(
            Flag.objects.filter(message__seller=seller)
            .select_related("message")
            .prefetch_related("decisions__actor")
            .order_by("-created_at", "-id")[:20]
        ),
        response=metrics.seller_response_stats(seller, now=now),
        messages_sent_30d=Message.objects.filter(
            seller=seller,
            direction=Message.Direction.SELLER_TO_BUYER,
            created_at__gte=now - dt.timedelta(days=30),
            created_at__lte=now,
        ).count(),
    )


def conversation_around(message: Message, *, before: int = 20, after: int = 20) -> list[Message]:
    """The messages of `message`'s conversation just before and after it, oldest first, it included."""
    base = Message.objects.filter(conversation_id=message.conversation_id).select_related("reason")
    earlier = base.filter(
        Q(created_at__lt=message.created_at) | Q(created_at=message.created_at, id__lt=message.pk)
    ).order_by("-created_at", "-id")[:before]
    later = base.filter(
        Q(created_at__gt=message.created_at) | Q(created_at=message.created_at, id__gt=message.pk)
    ).order_by("created_at", "id")[:after]
    return [*reversed(list(earlier)), message, *later]


def next_open_item() -> tuple[str, int] | None:
    """The item an operator reviews next: the oldest open buyer report, then the oldest open violation."""
    flag = open_flags().values_list("pk", flat=True).first()
    if flag is not None:
        return ("flag", flag)
    violation = open_violations().values_list("pk", flat=True).first()
    if violation is not None:
        return ("violation", violation)
    return None


@dataclass(frozen=True)
class QueuePlace:
    position: int  # 1-based, in the order the queue lists its items
    total: int
    next: tuple[str, int] | None  # the item after this one (the first one after the last), if any other


def _after(qs: QuerySet[Any], item: Flag | Violation) -> QuerySet[Any]:
    return qs.filter(Q(created_at__gt=item.created_at) | Q(created_at=item.created_at, id__gt=item.pk))


def queue_place(kind: str, item: Flag | Violation) -> QueuePlace | None:
    """Where an open item stands in the queue (buyer reports first, then violations, oldest first)."""
    if item.status != "open":
        return None
    flags, violations = open_flags(), open_violations()
    n_flags, n_violations = flags.count(), violations.count()
    if kind == "flag":
        position = n_flags - _after(flags, item).count()
        later = _after(flags, item).values_list("pk", flat=True).first()
        nxt: tuple[str, int] | None = ("flag", later) if later is not None else None
        if nxt is None:
            v = violations.values_list("pk", flat=True).first()
            nxt = ("violation", v) if v is not None else None
    else:
        position = n_flags + n_violations - _after(violations, item).count()
        later = _after(violations, item).values_list("pk", flat=True).first()
        nxt = ("violation", later) if later is not None else None
    if nxt is None:
        first = next_open_item()
        nxt = first if first is not None and first != (kind, item.pk) else None
    return QueuePlace(position=position, total=n_flags + n_violations, next=nxt)


# How a seller message's outcome is classified on the dashboard, first match wins.
OUTCOMES: list[tuple[str, Q]] = [
    ("optout", Q(state__in=["blocked", "bounced"], state_code__startswith="optout.")),
    ("content", Q(state__in=["blocked", "bounced"], state_code__startswith="content.")),
    ("bounced", Q(state="bounced")),
    ("blocked", Q(state="blocked")),
    ("delivered", Q(state="delivered")),
]


def _exclusive(i: int) -> Q:
    q = OUTCOMES[i][1]
    for _name, earlier in OUTCOMES[:i]:
        q &= ~earlier
    return q


def _days(now: dt.datetime, days: int) -> tuple[dt.datetime, list[dt.date]]:
    start = (now - dt.timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, [(start + dt.timedelta(days=i)).date() for i in range(days)]


def outcomes_per_day(*, now: dt.datetime, days: int = 30) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Seller-to-buyer messages per day by outcome, in one grouped query."""
    start, day_list = _days(now, days)
    aggregates: dict[str, Any] = {
        name: Count("id", filter=_exclusive(i)) for i, (name, _q) in enumerate(OUTCOMES)
    }
    rows = (
        Message.objects.filter(
            direction=Message.Direction.SELLER_TO_BUYER, created_at__gte=start, created_at__lte=now
        )
        .order_by()
        .annotate(day=UtcDate("created_at"))
        .values("day")
        .annotate(**aggregates)
    )
    by_day: dict[dt.date, Any] = {r["day"]: r for r in rows}
    return day_list, {
        name: [by_day[d][name] if d in by_day else 0 for d in day_list] for name, _q in OUTCOMES
    }


def per_day(
    qs: QuerySet[Any], *, now: dt.datetime, days: int = 30, group: str = ""
) -> tuple[list[dt.date], dict[str, list[int]]]:
    start, day_list = _days(now, days)
    base = (
        qs.filter(created_at__gte=start, created_at__lte=now).order_by().annotate(day=UtcDate("created_at"))
    )
    series: dict[str, list[int]] = {}
    if group:
        rows = base.values("day", group).annotate(n=Count("id"))
        keys = sorted({r[group] for r in rows})
        for k in keys:
            counts = {r["day"]: r["n"] for r in rows if r[group] == k}
            series[k] = [counts.get(d, 0) for d in day_list]
    else:
        counts = {r["day"]: r["n"] for r in base.values("day").annotate(n=Count("id"))}
        series["all"] = [counts.get(d, 0) for d in day_list]
    return day_list, series


@dataclass(frozen=True)
class Lockout:
    """A username or an address that has failed to sign in too often (django-axes' records)."""

    kind: str  # "username" or "address"
    value: str
    failures: int
    last_attempt: dt.datetime


def login_lockouts() -> list[Lockout]:
    """Who cannot sign in now: usernames and addresses at the failure limit within the lockout time."""
    # django-axes records its attempts on Django's clock, not Parley's (which tests may freeze).
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    out: list[Lockout] = []
    for kind, field in (("username", "username"), ("address", "ip_address")):
        rows = (
            recent.exclude(**{field: None})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
            .order_by("-last")
        )
        out.extend(Lockout(kind, r[field], r["failures"], r["last"]) for r in rows)
    return out


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name: str
    parent_code: str
    group: str | None  # the operator's mapping, by name
    effective_group: str  # by name
    in_tree: bool


SHOW = ("all", "unmapped", "outside")  # every node; counting as the default group; not in the tree


def marketplace_categories(market: Marketplace, *, q: str, show: str, language: str) -> list[CategoryRow]:
    """A marketplace's category nodes for the console, by code, searched by code or name in any language.

    A tree has thousands of nodes, and names are per language in one JSON value: read once and filter
    here, which also searches Chinese names the same way on both databases.
    """
    nodes = MarketplaceCategory.objects.filter(marketplace=market).order_by("code")
    groups = {g.code: g.name(language) for g in ProductCategory.objects.all()}
    needle = q.casefold()
    out = []
    for n in nodes.only("code", "names", "parent_code", "group_id", "effective_group_id", "in_tree"):
        if show == "unmapped" and n.effective_group_id != market.default_group_id:
            continue
        if show == "outside" and n.in_tree:
            continue
        names = [n.code, *(str(v) for v in (n.names or {}).values())]
        if needle and not any(needle in x.casefold() for x in names):
            continue
        out.append(
            CategoryRow(
                code=n.code,
                name=n.name(language),
                parent_code=n.parent_code,
                group=groups.get(n.group_id or "", n.group_id),
                effective_group=groups.get(str(n.effective_group_id), str(n.effective_group_id)),
                in_tree=n.in_tree,
            )
        )
    return out


# --- single objects by the id in the URL: 404 when there is none (operators see every seller's) ------


def access_flag(flag_id: int | str) -> Flag:
    try:
        return Flag.objects.select_related(
            "message__seller", "message__reason", "message__conversation__order", "buyer"
        ).get(pk=int(flag_id))
    except (Flag.DoesNotExist, ValueError, TypeError):
        raise Http404("No such flag.") from None


def access_violation(violation_id: int | str) -> Violation:
    try:
        return Violation.objects.select_related(
            "seller", "message__reason", "message__conversation__order"
        ).get(pk=int(violation_id))
    except (Violation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such violation.") from None


def access_seller(seller_id: str) -> Seller:
    try:
        return Seller.objects.get(pk=seller_id)
    except Seller.DoesNotExist:
        raise Http404("No such seller.") from None


def access_marketplace(marketplace_id: str) -> Marketplace:
    try:
        return Marketplace.objects.select_related("default_group").get(pk=marketplace_id)
    except Marketplace.DoesNotExist:
        raise Http404("No such marketplace.") from None


def access_category(marketplace_id: str, code: str) -> MarketplaceCategory:
    try:
        return MarketplaceCategory.objects.get(marketplace_id=marketplace_id, code=code)
    except MarketplaceCategory.DoesNotExist:
        raise Http404("No such category.") from None


def access_reason(code: str) -> ContactReason:
    found = policy_selectors.reason(code)
    if found is None:
        raise Http404("No such contact reason.")
    return found


def access_attachment(attachment_id: str) -> Attachment:
    """Any attachment, quarantined ones included (an operator reviews what was held back)."""
    try:
        return Attachment.objects.get(public_id=attachment_id)
    except Attachment.DoesNotExist:
        raise Http404("No such attachment.") from None


# --- lists and counts of the console's pages -----------------------------------------------------------


def flags() -> QuerySet[Flag]:
    return Flag.objects.all()


def violations() -> QuerySet[Violation]:
    return Violation.objects.all()


def sellers_by_status() -> list[tuple[str, int]]:
    counts = dict(Seller.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [(str(s.label), counts.get(s.value, 0)) for s in Seller.Status]


def decision_of(message: Message) -> PolicyDecision | None:
    return PolicyDecision.objects.filter(message=message).first()


def find_sellers(*, q: str, status: str) -> QuerySet[Seller]:
    """Sellers by exact id or by a part of their name, of one standing if `status` is one."""
    qs = Seller.objects.order_by("display_name", "id")
    if q:
        qs = qs.filter(Q(id__iexact=q) | Q(display_name__icontains=q))
    if status in Seller.Status.values:
        qs = qs.filter(status=status)
    return qs


def marketplaces() -> QuerySet[Marketplace]:
    return Marketplace.objects.order_by("id")


def settings_changes(*, kind: str = "", object_id: str = "") -> QuerySet[SettingsChange]:
    """The settings changes, newest first (of one object if `kind` and `object_id` are given)."""
    qs = SettingsChange.objects.select_related("actor")
    if kind:
        qs = qs.filter(kind=kind, object_id=object_id)
    return qs


def category_counts(market: Marketplace) -> tuple[int, int]:
    """How many categories the marketplace has, and how many of them are outside its tree."""
    nodes = MarketplaceCategory.objects.filter(marketplace=market)
    return nodes.count(), nodes.filter(in_tree=False).count()
