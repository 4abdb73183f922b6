"""The enforcement ladder: every step, its thresholds per marketplace, the audit trail and reinstatement."""

from __future__ import annotations

import datetime as dt

import pytest

from parley import testing
from parley.conversations.models import Violation
from parley.core import time
from parley.marketplace import actions as marketplace_actions
from parley.marketplace import enforcement
from parley.marketplace.models import Marketplace, Seller, StandingChange

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
STRICT = {"window_days": 30, "warn": 1, "restrict": 2, "block": 3, "block_days": 7, "suspend": 4}


@pytest.fixture
def seller() -> Seller:
    time.freeze(T0)
    market = testing.marketplace(id="STRICT01", name="Strict", enforcement=STRICT)
    s = testing.seller()
    testing.order(seller=s, marketplace=market)
    return s


def uphold(seller: Seller, at: dt.datetime, actor: object = None) -> StandingChange | None:
    Violation.objects.create(
        seller=seller, kind=Violation.Kind.FLAG_UPHELD, status=Violation.Status.UPHELD, created_at=at
    )
    return marketplace_actions.do_apply_ladder(seller=seller, actor=actor, now=at)  # type: ignore[arg-type]


def test_each_step_of_the_ladder_in_turn_with_audit(seller: Seller) -> None:
    op = testing.user("op", is_staff=True)
    expected = [
        ("active", "warned", None),
        ("warned", "restricted", None),
        ("restricted", "blocked", T0 + dt.timedelta(hours=2, days=7)),
        ("blocked", "suspended", None),
    ]
    for i, (frm, to, until) in enumerate(expected):
        at = T0 + dt.timedelta(hours=i)
        change = uphold(seller, at, op)
        assert change is not None
        assert (change.from_status, change.to_status, change.until, change.actor, change.created_at) == (
            frm,
            to,
            until,
            op,
            at,
        )
        assert change.reason.startswith(f"{i + 1} upheld violation{'' if i == 0 else 's'} in 30 days")
        seller.refresh_from_db()
        assert seller.status == to
        assert seller.proactive_blocked_until == until
    # Beyond the last step nothing more happens.
    assert uphold(seller, T0 + dt.timedelta(hours=5)) is None
    assert StandingChange.objects.filter(seller=seller).count() == 4


def test_open_and_dismissed_violations_do_not_count(seller: Seller) -> None:
    Violation.objects.create(seller=seller, kind="tag_misuse", status="open", created_at=T0)
    Violation.objects.create(seller=seller, kind="tag_misuse", status="dismissed", created_at=T0)
    assert marketplace_actions.do_apply_ladder(seller=seller, actor=None, now=T0) is None
    assert Seller.objects.get(pk=seller.pk).status == "active"


def test_violations_outside_the_window_do_not_count(seller: Seller) -> None:
    Violation.objects.create(
        seller=seller, kind="flag_upheld", status="upheld", created_at=T0 - dt.timedelta(days=31)
    )
    assert marketplace_actions.do_apply_ladder(seller=seller, actor=None, now=T0) is None
    change = uphold(seller, T0)
    assert change is not None and change.to_status == "warned"
    # Two in the window would have restricted; only one counts.
    assert enforcement.upheld_count(seller, now=T0, window_days=30) == 1


def test_thresholds_jump_several_steps_at_once(seller: Seller) -> None:
    for _ in range(3):
        Violation.objects.create(seller=seller, kind="flag_upheld", status="upheld", created_at=T0)
    change = marketplace_actions.do_apply_ladder(seller=seller, actor=None, now=T0)
    assert change is not None
    assert (change.from_status, change.to_status) == ("active", "blocked")


def test_default_thresholds_from_an_unconfigured_marketplace() -> None:
    time.freeze(T0)
    s = testing.seller()
    testing.order(seller=s)  # the default marketplace: warn 1, restrict 3
    assert uphold(s, T0).to_status == "warned"  # type: ignore[union-attr]
    assert uphold(s, T0) is None
    assert uphold(s, T0).to_status == "restricted"  # type: ignore[union-attr]


def test_block_expires_to_restricted(seller: Seller) -> None:
    marketplace_actions.do_set_standing(
        seller=seller, to_status="blocked", reason="manual", actor=None, now=T0, block_days=2
    )
    seller.refresh_from_db()
    assert seller.proactive_blocked_until == T0 + dt.timedelta(days=2)
    assert marketplace_actions.do_expire_blocks(now=T0 + dt.timedelta(days=1)) == 0
    assert marketplace_actions.do_expire_blocks(now=T0 + dt.timedelta(days=2)) == 1
    seller.refresh_from_db()
    assert (seller.status, seller.proactive_blocked_until) == ("restricted", None)
    last = StandingChange.objects.filter(seller=seller).first()
    assert last is not None and (last.from_status, last.to_status, last.actor) == (
        "blocked",
        "restricted",
        None,
    )


def test_reinstate_resets_the_count(seller: Seller) -> None:
    op = testing.user("op2", is_staff=True)
    uphold(seller, T0)
    uphold(seller, T0 + dt.timedelta(minutes=1))
    assert Seller.objects.get(pk=seller.pk).status == "restricted"
    later = T0 + dt.timedelta(hours=1)
    change = marketplace_actions.do_reinstate(seller=seller, reason="Appeal accepted", actor=op, now=later)
    assert (change.from_status, change.to_status, change.reason, change.actor) == (
        "restricted",
        "active",
        "Appeal accepted",
        op,
    )
    seller.refresh_from_db()
    assert (seller.status, seller.proactive_blocked_until) == ("active", None)
    # The next upheld violation is the first since reinstatement: a warning, not a block.
    assert uphold(seller, later + dt.timedelta(minutes=1)).to_status == "warned"  # type: ignore[union-attr]


def test_ladder_never_improves_standing_by_itself(seller: Seller) -> None:
    marketplace_actions.do_set_standing(
        seller=seller, to_status="suspended", reason="fraud", actor=None, now=T0
    )
    assert uphold(seller, T0) is None
    assert Seller.objects.get(pk=seller.pk).status == "suspended"


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        (STRICT, True),
        ({**STRICT, "warn": 2, "restrict": 2}, False),
        ({**STRICT, "suspend": 0}, False),
        ({**STRICT, "block_days": "7"}, False),
        ({**STRICT, "extra": 1}, False),
        ({k: v for k, v in STRICT.items() if k != "block"}, False),
        ([], False),
    ],
)
def test_validate_thresholds(raw: object, ok: bool) -> None:
    parsed, errors = enforcement.validate_thresholds(raw)
    assert (parsed is not None, not errors) == (ok, ok)


def test_invalid_stored_thresholds_fall_back_to_defaults() -> None:
    m = Marketplace(id="X", name="X", enforcement={"warn": "lots"})
    assert enforcement.thresholds(m).as_dict() == {
        "window_days": 90,
        "warn": 1,
        "restrict": 3,
        "block": 5,
        "block_days": 14,
        "suspend": 8,
    }


def test_expire_blocks_command(seller: Seller) -> None:
    from io import StringIO

    from django.core.management import call_command

    marketplace_actions.do_set_standing(
        seller=seller, to_status="blocked", reason="manual", actor=None, now=T0, block_days=1
    )
    time.freeze(T0 + dt.timedelta(days=1, seconds=1))
    out = StringIO()
    call_command("expire-blocks", stdout=out)
    assert out.getvalue() == "1 block ended\n"
    assert Seller.objects.get(pk=seller.pk).status == "restricted"


def test_flags_and_standing_changes_reach_the_sellers_webhooks(seller: Seller) -> None:
    from parley.buyers import actions as buyer_actions
    from parley.delivery.models import WebhookDelivery, WebhookEndpoint
    from tests.buyers.helpers import message

    WebhookEndpoint.objects.create(
        seller=seller, url="https://hooks.example/parley", secret="s", created_at=T0
    )
    order = seller.orders.get()
    msg = message(order)
    flag, _ = buyer_actions.check_flag_message(
        buyer=order.buyer, message_id=msg.public_id, category="marketing"
    )
    buyer_actions.check_flag_message(buyer=order.buyer, message_id=msg.public_id, category="marketing")
    uphold(seller, T0)
    rows = list(WebhookDelivery.objects.order_by("id").values_list("event", "payload"))
    assert [event for event, _p in rows] == ["message.flagged", "seller.standing_changed"]
    assert rows[0][1]["flag_id"] == flag.pk and rows[0][1]["category"] == "marketing"
    assert (rows[1][1]["from"], rows[1][1]["to"]) == ("active", "warned")


def test_parleys_own_reasons_are_kept_in_chinese_too_and_shown_to_chinese_sellers(seller: Seller) -> None:
    from django.test import Client

    change = uphold(seller, T0)
    assert change is not None
    assert change.reason == "1 upheld violation in 30 days (threshold for Warned: 1)."
    assert change.reason_zh == "30 天内有 1 次违规被确认（“警告”的阈值：1）。"
    c = Client()
    c.force_login(seller.user)  # type: ignore[arg-type]
    zh = c.get("/account-health/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "30 天内有 1 次违规被确认" in zh
    en = c.get("/account-health/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 upheld violation in 30 days" in en and "违规被确认" not in en


def test_an_operators_typed_reason_is_shown_as_written(seller: Seller) -> None:
    change = marketplace_actions.do_set_standing(
        seller=seller,
        to_status=Seller.Status.WARNED,
        reason="Spam reported by many buyers.",
        actor=None,
        now=T0,
    )
    assert (change.reason, change.reason_zh) == ("Spam reported by many buyers.", "")
