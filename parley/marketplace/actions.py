"""Writes to marketplace objects: authorized sender addresses, category groups of a tree, imported records."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Model
from django.http import Http404
from django.urls import reverse

from parley.core import effects, time
from parley.core.errors import ActionError
from parley.core.ids import token
from parley.marketplace import enforcement, selectors, store
from parley.marketplace.categories import effective_groups
from parley.marketplace.models import (
    AuthorizedSender,
    Buyer,
    Marketplace,
    MarketplaceCategory,
    Order,
    OrderItem,
    ProductCategory,
    RelayAddress,
    Seller,
    SenderConfirmationMail,
    StandingChange,
)
from parley.policy.catalog import DEFAULT_REASONS
from parley.policy.models import ContactReason
from parley.policy.seed import CATEGORIES

MAX_AUTHORIZED_SENDERS = 20
CONFIRM_VALID_DAYS = 7
# Confirmation mails go to an address the seller types in: without limits, adding and removing an
# address would mail its owner without end. Per address (whichever seller asks) and per seller.
ADDRESS_COOLDOWN = dt.timedelta(minutes=10)
ADDRESS_PER_DAY = 3
SELLER_PER_HOUR = 5


def do_relay_address(*, buyer: Buyer, seller: Seller, kind: str) -> RelayAddress:
    """The pair's relay address of `kind`, created on first use; stable afterwards."""
    obj, _ = RelayAddress.objects.get_or_create(buyer=buyer, seller=seller, kind=kind)
    return obj


def do_buyer_relay_address(*, order: Order) -> str:
    """Where the seller writes (from their own mail client) to reach this order's buyer."""
    return do_relay_address(buyer=order.buyer, seller=order.seller, kind=RelayAddress.Kind.BUYER).address()


def do_add_sellers(*, sellers: Sequence[Seller], senders: Sequence[AuthorizedSender]) -> None:
    """Insert new sellers and their (confirmed) authorized senders in one transaction."""
    with transaction.atomic():
        Seller.objects.bulk_create(sellers)
        AuthorizedSender.objects.bulk_create(senders)


def do_set_average_daily_orders(*, averages: Mapping[str, float]) -> None:
    """Set sellers' average daily orders (seller id -> average), which their daily cap follows."""
    for sid, average in averages.items():
        Seller.objects.filter(id=sid).update(avg_daily_orders=average)


def do_ensure_marketplace(*, marketplace_id: str, name: str, default_locale: str) -> tuple[Marketplace, bool]:
    """The marketplace and whether it was made now: created with these values if missing, else as it is."""
    return Marketplace.objects.get_or_create(
        id=marketplace_id, defaults={"name": name, "default_locale": default_locale}
    )


def do_ensure_seller(
    *, seller_id: str, display_name: str, email: str, user: User | None, timezone: str
) -> tuple[Seller, bool]:
    """The seller and whether it was made now: created with these values if missing, else as it is."""
    return Seller.objects.get_or_create(
        id=seller_id,
        defaults={"display_name": display_name, "email": email, "user": user, "timezone": timezone},
    )


def do_ensure_authorized_sender(
    *, seller: Seller, email: str, confirmed_at: dt.datetime
) -> tuple[AuthorizedSender, bool]:
    """The seller's authorized sender and whether it was made now (confirmed at `confirmed_at`)."""
    return AuthorizedSender.objects.get_or_create(
        seller=seller, email=email, defaults={"confirmed_at": confirmed_at}
    )


def do_ensure_buyer(
    *,
    buyer_id: str,
    name: str,
    email: str,
    locale: str,
    opted_out: bool,
    user: User | None,
    timezone: str,
) -> tuple[Buyer, bool]:
    """The buyer and whether it was made now: created with these values if missing, else as it is."""
    return Buyer.objects.get_or_create(
        id=buyer_id,
        defaults={
            "name": name,
            "email": email,
            "locale": locale,
            "opted_out": opted_out,
            "user": user,
            "timezone": timezone,
        },
    )


def do_add_orders(*, orders: Sequence[Order], items: Sequence[OrderItem]) -> None:
    """Insert new orders and their items in one transaction."""
    with transaction.atomic():
        Order.objects.bulk_create(orders)
        OrderItem.objects.bulk_create(items)


def do_seed_catalog() -> None:
    """Create the default contact reasons and product categories, or reset them to their defaults."""
    for position, data in enumerate(DEFAULT_REASONS):
        ContactReason.objects.update_or_create(code=data["code"], defaults={**data, "position": position})
    for code, en, zh in CATEGORIES:
        ProductCategory.objects.update_or_create(code=code, defaults={"name_en": en, "name_zh": zh})


def hash_token(raw: str) -> str:
    # Only the hash is stored: a database reader cannot confirm an address they do not control.
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def check_add_authorized_sender(
    *, seller: Seller, email: str, now: dt.datetime | None = None
) -> AuthorizedSender:
    """Validate an address a seller wants to write from, then store it unconfirmed and mail the link."""
    address = (email or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ActionError(
            "sender.invalid", "Enter a valid email address.", "请输入有效的电子邮件地址。", field="email"
        ) from None
    if address.lower().endswith("@" + settings.RELAY_DOMAIN):
        raise ActionError(
            "sender.relay",
            "A relay address cannot be an authorized sender.",
            "中转地址不能作为授权发件地址。",
            field="email",
        )
    existing = AuthorizedSender.objects.filter(seller=seller)
    if existing.filter(email__iexact=address).exists():
        raise ActionError(
            "sender.duplicate",
            "This address is already on your list.",
            "此地址已在您的列表中。",
            field="email",
        )
    if existing.count() >= MAX_AUTHORIZED_SENDERS:
        raise ActionError(
            "sender.too_many",
            f"You can have at most {MAX_AUTHORIZED_SENDERS} authorized sender addresses.",
            f"最多只能有 {MAX_AUTHORIZED_SENDERS} 个授权发件地址。",
            field="email",
        )
    at = now or time.now()
    _check_confirmation_limits(seller=seller, address=address, now=at)
    sender, _raw = do_add_authorized_sender(seller=seller, email=address, now=at)
    return sender


def _wait_text(wait: dt.timedelta) -> tuple[str, str]:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}", f"{minutes} 分钟"
    hours = -(-minutes // 60)
    return f"{hours} hours", f"{hours} 小时"


def _check_confirmation_limits(*, seller: Seller, address: str, now: dt.datetime) -> None:
    """Refuse (429) when the address, or the seller, had its share of confirmation mails."""
    sent = SenderConfirmationMail.objects.filter(sent_at__gt=now - dt.timedelta(days=1))
    to_address = sorted(sent.filter(email=address.lower()).values_list("sent_at", flat=True))
    by_seller = sorted(
        sent.filter(seller=seller, sent_at__gt=now - dt.timedelta(hours=1)).values_list("sent_at", flat=True)
    )
    # (how long until it may be asked again, or None; English and Chinese, each with the wait)
    limits: list[tuple[dt.timedelta | None, str, str]] = [
        (
            to_address[-1] + ADDRESS_COOLDOWN - now
            if to_address and to_address[-1] > now - ADDRESS_COOLDOWN
            else None,
            "A confirmation link was sent to this address a moment ago. Check that mailbox (and its spam "
            "folder), or ask again in {en}.",
            "刚刚已向此地址发送确认链接。请查看该邮箱（包括垃圾邮件），或在 {zh}后重试。",
        ),
        (
            to_address[-ADDRESS_PER_DAY] + dt.timedelta(days=1) - now
            if len(to_address) >= ADDRESS_PER_DAY
            else None,
            f"This address was sent {ADDRESS_PER_DAY} confirmation links in the last 24 hours. Ask again in {{en}}.",
            f"过去 24 小时内已向此地址发送 {ADDRESS_PER_DAY} 次确认链接。请在 {{zh}}后重试。",
        ),
        (
            by_seller[-SELLER_PER_HOUR] + dt.timedelta(hours=1) - now
            if len(by_seller) >= SELLER_PER_HOUR
            else None,
            f"You asked for {SELLER_PER_HOUR} confirmation links in the last hour. Ask again in {{en}}.",
            f"您在过去一小时内已申请 {SELLER_PER_HOUR} 次确认链接。请在 {{zh}}后重试。",
        ),
    ]
    waits = [(wait, en, zh) for wait, en, zh in limits if wait is not None]
    if waits:
        wait, en, zh = max(waits, key=lambda w: w[0])  # the longest wait is the one that counts
        wait_en, wait_zh = _wait_text(wait)
        raise ActionError(
            "sender.cooldown", en.format(en=wait_en), zh.format(zh=wait_zh), field="email", status=429
        )


def do_add_authorized_sender(*, seller: Seller, email: str, now: dt.datetime) -> tuple[AuthorizedSender, str]:
    """Store the address unconfirmed and queue the confirmation mail; returns the raw token."""
    raw = token(24)
    with transaction.atomic():
        sender = AuthorizedSender.objects.create(
            seller=seller, email=email, confirm_token_hash=hash_token(raw)
        )
        SenderConfirmationMail.objects.create(seller=seller, email=email.lower(), sent_at=now)
        url = settings.PUBLIC_URL + reverse("sellercentral:confirm_sender", args=[raw])
        mail = EmailMessage(policy=SMTP)
        mail["From"] = settings.MAIL_FROM
        mail["To"] = email
        mail["Subject"] = "Confirm your sender address / 确认您的发件地址"
        mail["Date"] = format_datetime(now)
        mail["Message-ID"] = make_msgid(domain=settings.RELAY_DOMAIN)
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(
            f"{seller.display_name} asked to write to buyers from {email}.\n"
            f"Open this link within {CONFIRM_VALID_DAYS} days to confirm:\n{url}\n\n"
            f"{seller.display_name} 申请使用 {email} 给买家发送消息。\n"
            f"请在 {CONFIRM_VALID_DAYS} 天内打开以下链接确认：\n{url}\n\n"
            "If you did not expect this, ignore this message. / 如果这不是您的操作，请忽略此邮件。\n"
        )
        effects.record(
            effects.Mail(
                purpose="system",
                mail_from=settings.MAIL_FROM,
                rcpt_to=(email,),
                data=mail.as_bytes(),
                now=now,
            )
        )
    return sender, raw


def sender_for_token(raw: str, *, now: dt.datetime | None = None) -> AuthorizedSender:
    """The unconfirmed sender a (still valid) confirmation token belongs to, or 404."""
    at = now or time.now()
    sender = (
        AuthorizedSender.objects.select_related("seller")
        .filter(confirm_token_hash=hash_token(raw or ""), confirmed_at__isnull=True)
        .first()
    )
    if sender is None or not raw or sender.created_at < at - dt.timedelta(days=CONFIRM_VALID_DAYS):
        raise Http404("No such confirmation.")
    return sender


def check_confirm_authorized_sender(*, raw_token: str, now: dt.datetime | None = None) -> AuthorizedSender:
    """Whoever holds the mailed token controls the address: confirm it."""
    sender = sender_for_token(raw_token, now=now)
    do_confirm_authorized_sender(sender=sender, now=now or time.now())
    return sender


def do_confirm_authorized_sender(*, sender: AuthorizedSender, now: dt.datetime) -> None:
    AuthorizedSender.objects.filter(pk=sender.pk).update(confirmed_at=now, confirm_token_hash="")
    sender.confirmed_at = now
    sender.confirm_token_hash = ""


def check_remove_authorized_sender(
    *, seller: Seller, sender_id: int, last_confirmed_ok: bool = False
) -> None:
    """Remove one of the seller's own addresses (404 for anyone else's). Removing the only confirmed
    one ends writing from a mail client, so it needs `last_confirmed_ok` (the seller said yes)."""
    with transaction.atomic():
        sender = AuthorizedSender.objects.select_for_update().filter(seller=seller, pk=sender_id).first()
        if sender is None:
            raise Http404("No such sender.")
        others = AuthorizedSender.objects.filter(seller=seller, confirmed_at__isnull=False).exclude(
            pk=sender.pk
        )
        if sender.confirmed_at is not None and not last_confirmed_ok and not others.exists():
            raise ActionError(
                "sender.last_confirmed",
                f"{sender.email} is your only confirmed address: without it, mail you write to buyers from"
                " your own mail client is refused until you add and confirm another address.",
                f"{sender.email} 是您唯一已确认的地址：删除后，您用自己的邮件客户端写给买家的邮件都会被拒收，"
                "直到您添加并确认另一个地址。",
                status=409,
            )
        sender.delete()


def do_refresh_category_groups(*, marketplace_ids: Iterable[str]) -> int:
    """Work out every tree node's effective group again (after the tree or a mapping changed).

    Returns how many nodes now count as a different group. Call inside the caller's transaction.
    """
    changed: list[MarketplaceCategory] = []
    for mid in sorted(set(marketplace_ids)):
        default = Marketplace.objects.filter(pk=mid).values_list("default_group_id", flat=True).first()
        if default is None:
            continue
        rows = list(MarketplaceCategory.objects.filter(marketplace_id=mid).only(*_NODE_FIELDS))
        groups, _cyclic = effective_groups({r.code: (r.parent_code, r.group_id) for r in rows}, default)
        for r in rows:
            if r.effective_group_id != groups[r.code]:
                r.effective_group_id = groups[r.code]
                changed.append(r)
    MarketplaceCategory.objects.bulk_update(changed, ["effective_group"], batch_size=500)
    return len(changed)


_NODE_FIELDS = ("id", "code", "parent_code", "group_id", "effective_group_id")


# --- The enforcement ladder (enforcement.py says where a seller belongs; these record the move) ---


def _change(
    *,
    seller: Seller,
    to_status: str,
    reason: str,
    actor: User | None,
    now: dt.datetime,
    until: dt.datetime | None = None,
    reason_zh: str = "",
) -> StandingChange:
    change = StandingChange.objects.create(
        seller=seller,
        from_status=seller.status,
        to_status=to_status,
        reason=reason,
        reason_zh=reason_zh,
        actor=actor,
        until=until,
        created_at=now,
    )
    seller.status = to_status
    seller.proactive_blocked_until = until
    seller.save(update_fields=["status", "proactive_blocked_until"])
    # Callers hold a transaction, so the webhook rows commit with the change.
    effects.record(effects.StandingChanged(change))
    return change


def do_apply_ladder(
    *, seller: Seller, actor: User | None, now: dt.datetime, trigger: str = "", trigger_zh: str = ""
) -> StandingChange | None:
    """Move the seller to the step their upheld violations call for, if that is worse than now.

    `trigger` (and `trigger_zh`, its Chinese) names what moved the seller, for the standing history."""
    with transaction.atomic():
        seller = Seller.objects.select_for_update().get(pk=seller.pk)
        do_expire_block(seller=seller, now=now)
        t = enforcement.thresholds(enforcement.seller_marketplace(seller))
        count = enforcement.upheld_count(seller, now=now, window_days=t.window_days)
        target = enforcement.step_for(count, t)
        if enforcement.rank(target) <= enforcement.rank(seller.status):
            return None
        until = now + dt.timedelta(days=t.block_days) if target == Seller.Status.BLOCKED else None
        reason = (
            f"{count} upheld violation{'' if count == 1 else 's'} in {t.window_days} days"
            f" (threshold for {Seller.Status(target).label}: {enforcement.threshold_for(target, t)})."
        )
        reason_zh = (
            f"{t.window_days} 天内有 {count} 次违规被确认"
            f"（“{enforcement.STATUS_ZH[target]}”的阈值：{enforcement.threshold_for(target, t)}）。"
        )
        if trigger:
            reason += f" Latest: {trigger}"
            reason_zh += f"最近一次：{trigger_zh or trigger}"
        return _change(
            seller=seller,
            to_status=target,
            reason=reason,
            reason_zh=reason_zh,
            actor=actor,
            now=now,
            until=until,
        )


def do_expire_block(*, seller: Seller, now: dt.datetime) -> StandingChange | None:
    """A proactive-messaging block that has run out leaves the seller restricted (one step up)."""
    if (
        seller.status == Seller.Status.BLOCKED
        and selectors.effective_status(seller, now) == Seller.Status.RESTRICTED
    ):
        return _change(
            seller=seller,
            to_status=Seller.Status.RESTRICTED,
            reason=f"Proactive messaging block ended {seller.proactive_blocked_until:%Y-%m-%d %H:%M} UTC.",
            reason_zh=f"主动消息禁令已于 {seller.proactive_blocked_until:%Y-%m-%d %H:%M} UTC 结束。",
            actor=None,
            now=now,
        )
    return None


def do_expire_blocks(*, now: dt.datetime) -> int:
    """Run do_expire_block for every seller whose block has ended (for a periodic job)."""
    count = 0
    for seller in Seller.objects.filter(status=Seller.Status.BLOCKED, proactive_blocked_until__lte=now):
        with transaction.atomic():
            if do_expire_block(seller=seller, now=now):
                count += 1
    return count


def do_set_standing(
    *,
    seller: Seller,
    to_status: str,
    reason: str,
    actor: User | None,
    now: dt.datetime,
    block_days: int | None = None,
) -> StandingChange:
    """An operator puts the seller on a step by hand (reinstating is to_status=active)."""
    with transaction.atomic():
        seller = Seller.objects.select_for_update().get(pk=seller.pk)
        until = None
        if to_status == Seller.Status.BLOCKED:
            days = block_days or enforcement.thresholds(enforcement.seller_marketplace(seller)).block_days
            until = now + dt.timedelta(days=days)
        return _change(seller=seller, to_status=to_status, reason=reason, actor=actor, now=now, until=until)


def do_reinstate(*, seller: Seller, reason: str, actor: User | None, now: dt.datetime) -> StandingChange:
    """Back to active; violations before this moment no longer count toward the ladder."""
    return do_set_standing(seller=seller, to_status=Seller.Status.ACTIVE, reason=reason, actor=actor, now=now)


# --- the importer's writes (marketplace/importer.py validates the records and calls these) -----------

T = TypeVar("T")

IMPORT_CHUNK = 500  # ids per IN (...) query and rows per bulk statement: well under SQLite's variable limit


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """`values` in consecutive slices of IMPORT_CHUNK, for the IN (...) lists of the importer's queries."""
    for start in range(0, len(values), IMPORT_CHUNK):
        yield values[start : start + IMPORT_CHUNK]


# An order item as the importer stores it: sku, title, group, tree node id, quantity.
Item = tuple[str, str, str | None, int | None, int]


def do_upsert(
    *,
    model: type[Model],
    rows: dict[str, dict[str, Any]],
    skip: Collection[str] = (),
    insert: Callable[[list[dict[str, Any]]], None] | None = None,
) -> tuple[set[str], set[str]]:
    """Create missing rows (by `insert`, a store op, if given) and update differing ones; return their ids."""
    manager = model._default_manager
    existing: dict[str, Any] = {}
    ids = list(rows)
    for chunk in _chunks(ids):
        existing.update({obj.pk: obj for obj in manager.filter(pk__in=chunk)})
    new, changed, fields = [], [], set()
    fresh: list[dict[str, Any]] = []
    created, updated = set(), set()
    for pk, row in rows.items():
        values = {k: v for k, v in row.items() if k not in skip}
        obj = existing.get(pk)
        if obj is None:
            if insert is not None:
                fresh.append(values)
            else:
                new.append(model(**values))
            created.add(pk)
            continue
        diff = [k for k, v in values.items() if k != "id" and getattr(obj, k) != v]
        if diff:
            for k in diff:
                setattr(obj, k, values[k])
            fields.update(diff)
            changed.append(obj)
            updated.add(pk)
    manager.bulk_create(new, batch_size=IMPORT_CHUNK)
    if insert is not None:
        insert(fresh)
    if changed:
        manager.bulk_update(changed, sorted(fields), batch_size=IMPORT_CHUNK)
    return created, updated


def do_sync_categories(
    *, rows: dict[tuple[str, str], dict[str, Any]], default_groups: Mapping[str, str]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Upsert tree nodes (a node orders named before the tree listed it joins it); return their keys."""
    created: set[tuple[str, str]] = set()
    updated: set[tuple[str, str]] = set()
    by_market: dict[str, list[dict[str, Any]]] = {}
    for row in rows.values():
        by_market.setdefault(row["marketplace_id"], []).append(row)
    for mid, market_rows in by_market.items():
        have = {
            obj.code: obj
            for chunk in _chunks(market_rows)
            for obj in MarketplaceCategory.objects.filter(
                marketplace_id=mid, code__in=[r["code"] for r in chunk]
            )
        }
        new, changed = [], []
        default = default_groups[mid]
        for row in market_rows:
            key = (mid, row["code"])
            obj = have.get(row["code"])
            if obj is None:
                new.append(
                    MarketplaceCategory(
                        marketplace_id=mid,
                        code=row["code"],
                        parent_code=row["parent_code"],
                        names=row["names"],
                        effective_group_id=default,
                    )
                )
                created.add(key)
            elif (obj.parent_code, obj.names, obj.in_tree) != (row["parent_code"], row["names"], True):
                obj.parent_code, obj.names, obj.in_tree = row["parent_code"], row["names"], True
                changed.append(obj)
                updated.add(key)
        MarketplaceCategory.objects.bulk_create(new, batch_size=IMPORT_CHUNK)
        MarketplaceCategory.objects.bulk_update(
            changed, ["parent_code", "names", "in_tree"], batch_size=IMPORT_CHUNK
        )
    if created or updated:
        do_refresh_category_groups(marketplace_ids=by_market)
    return created, updated


def do_sync_senders(*, sellers: dict[str, dict[str, Any]]) -> set[str]:
    """Make each listed seller's authorized senders exactly the record's list; return the sellers changed."""
    wanted = {sid: row["authorized_senders"] for sid, row in sellers.items() if "authorized_senders" in row}
    have: dict[str, dict[str, int]] = {sid: {} for sid in wanted}
    ids = list(wanted)
    for chunk in _chunks(ids):
        rows = AuthorizedSender.objects.filter(seller_id__in=chunk)
        for pk, sid, email in rows.values_list("pk", "seller_id", "email"):
            have[sid][email.lower()] = pk
    # Imported senders are the operator's word: they count as confirmed.
    now = time.now()
    add: list[AuthorizedSender] = []
    drop: list[int] = []
    changed: set[str] = set()
    for sid, emails in wanted.items():
        current = have[sid]
        add += [
            AuthorizedSender(seller_id=sid, email=e, confirmed_at=now) for e in emails if e not in current
        ]
        drop += [pk for e, pk in current.items() if e not in emails]
        if set(emails) != set(current):
            changed.add(sid)
    AuthorizedSender.objects.bulk_create(add, batch_size=IMPORT_CHUNK)
    AuthorizedSender.objects.filter(pk__in=drop).delete()
    return changed


def do_unlisted_category(*, marketplace_id: str, code: str, default_group_id: str) -> tuple[int, bool]:
    """(id, in tree) of a category node, made outside the tree if the marketplace has no such node."""
    obj, _ = MarketplaceCategory.objects.get_or_create(
        marketplace_id=marketplace_id,
        code=code,
        defaults={"in_tree": False, "names": {}, "effective_group_id": default_group_id},
    )
    return obj.pk, obj.in_tree


def do_sync_items(*, wanted: dict[str, list[Item]]) -> set[str]:
    """Replace an order's items when the wanted list differs from the stored one; return those orders."""
    ids = list(wanted)
    have: dict[str, list[Item]] = {oid: [] for oid in ids}
    for chunk in _chunks(ids):
        rows = OrderItem.objects.filter(order_id__in=chunk).order_by("order_id", "id")
        for oid, sku, title, cat, node, qty in rows.values_list(
            "order_id", "sku", "title", "category_id", "marketplace_category_id", "quantity"
        ):
            have[oid].append((sku, title, cat, node, qty))
    replace = [oid for oid in ids if have[oid] != wanted[oid]]
    for chunk in _chunks(replace):
        OrderItem.objects.filter(order_id__in=chunk).delete()
    store.insert_items(
        [(oid, sku, title, qty, cat, node) for oid in replace for sku, title, cat, node, qty in wanted[oid]]
    )
    return set(replace)
