"""Policy settings over HTTP in words, in English and Chinese: no codes, dicts or half-width punctuation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from parley import testing
from parley.operators import actions

pytestmark = pytest.mark.django_db

MARKET = "ATVPDKIKX0DER"


@pytest.fixture
def c() -> Client:
    testing.marketplace(id=MARKET)
    client = Client()
    client.force_login(testing.user("ops", is_staff=True))
    return client


def main(html: str) -> str:
    return html.split("<main", 1)[1].split(">", 1)[1].split("</main>")[0]


def test_settings_page_in_words(c: Client) -> None:
    en = main(c.get("/operators/settings/").content.decode())
    row = en.split(f'<td data-label="Marketplace">Demo Marketplace ({MARKET})</td>')[1].split("</tr>")[0]
    assert '<td data-label="Daily cap">5 × the seller&#x27;s average daily orders + 600</td>' in row
    assert (
        '<td data-label="Enforcement">Within 90 days: a warning at 1 upheld violation, messaging restricted '
        "to critical reasons at 3 upheld violations, proactive messaging blocked for 14 days at 5 upheld "
        "violations, selling suspended at 8 upheld violations.</td>" in row
    )
    assert "window_days" not in en and "=" not in re.sub(r"<[^>]+>", "", en)
    assert '<td data-label="Order statuses">Unshipped, Partially shipped, Shipped</td>' in en
    assert "PartiallyShipped" not in re.sub(r"<[^>]+>", "", en)
    zh = main(c.get("/operators/settings/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode())
    assert '<td data-label="每日上限">5 × 卖家日均订单数 + 600</td>' in zh
    assert '<td data-label="订单状态">未发货、部分发货、已发货</td>' in zh
    assert "<th>向卖家提供</th>" in zh and "<th>正常</th>" not in zh
    assert '<td data-label="名称">确认配送详情</td>' in zh


def test_reason_editor_in_chinese(c: Client) -> None:
    html = main(
        c.get(
            "/operators/settings/reasons/confirmDeliveryDetails/", HTTP_ACCEPT_LANGUAGE="zh-CN"
        ).content.decode()
    )
    labels = re.findall(r"<label for=\"id_[a-z_]+\"[^>]*>(.*?)</label>", html)
    assert labels[:4] == [
        "代码（供消息和 API 使用；创建后不可更改）",
        "英文名称",
        "中文名称",
        "关键：完成订单所必需",
    ]
    assert "窗口开启（该日期后的天数）" in labels and "SP-API 操作名称" in labels
    for english in ("Code", "Name en", "Window anchor", "Sp api action", "Not allowed", "Partially shipped"):
        assert english not in html, english
    assert '<option value="none" selected>不允许</option>' in html
    assert "家居厨房（home）" in html
    assert (
        '<p class="muted help" id="help-critical">关键消息会送达已退订的买家，并可带有 [重要] 标签。</p>'
        in html
    )
    assert re.search(r"[\u4e00-\u9fff]:", re.sub(r"<[^>]+>", "", html)) is None


def test_reason_history_in_sentences(c: Client) -> None:
    from parley.policy.models import ContactReason

    op = testing.user("ops2", is_staff=True)
    reason = ContactReason.objects.get(pk="warranty")
    form = actions.ContactReasonForm(
        {
            **{f: getattr(reason, f) for f in ("code", "name_en", "name_zh", "subject_en", "subject_zh")},
            "order_statuses": ["Shipped", "PartiallyShipped"],
            "window_anchor": "delivered",
            "max_length": 1500,
            "attachments": "none",
            "max_attachments": 0,
            "position": reason.position,
            "critical": "on",
            "active": "on",
        },
        instance=reason,
    )
    assert form.is_valid(), form.errors
    actions.do_save_reason(actor=op, form=form, now=_now())
    zh = main(c.get("/operators/settings/history/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode())
    assert "<strong>联系原因“保修信息”</strong>" in zh
    assert "<li>订单状态由 已发货、已送达 改为 已发货、部分发货。</li>" in zh
    assert "<li>附件由 必须附带 改为 不允许。</li>" in zh
    assert "由 ops2 于 <time" in zh
    en = main(c.get("/operators/settings/history/").content.decode())
    assert "<li>Order statuses changed from Shipped, Delivered to Shipped, Partially shipped.</li>" in en
    assert "<li>Longest message (characters) changed from 2000 to 1500.</li>" in en
    assert "{" not in en and "&#x27;max_length&#x27;" not in en


def _now() -> dt.datetime:
    from parley.core import time

    return time.now()


def test_the_admin_names_its_models_in_chinese() -> None:
    client = Client()
    client.force_login(testing.user("root", is_staff=True, is_superuser=True))
    html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    for name in (
        "商城",
        "联系原因",
        "买家举报",
        "违规",
        "账户状态变更",
        "设置变更",
        "审核决定",
        "运营控制台",
    ):
        assert f">{name}</" in html or f">{name}<" in html, name
    for english in ("Contact reasons", "Standing changes", "Settings changes", "Policy decisions", "Flags"):
        assert english not in html, english
    assert "Parley 运营后台" in html
    en = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Buyer reports</a>" in en and ">Contact reasons</a>" in en


def test_category_history_in_sentences(c: Client) -> None:
    from parley.marketplace.models import MarketplaceCategory

    MarketplaceCategory.objects.create(marketplace_id=MARKET, code="1000", names={"en": "Home & Kitchen"})
    url = f"/operators/settings/marketplaces/{MARKET}/categories/1000/"
    assert c.post(url, {"group": "home", "note": "kitchenware"}).status_code == 302
    en = main(c.get(url).content.decode())
    assert f"<strong>Category 1000 of {MARKET}</strong>" in en
    assert (
        "<li>The mapping changed from not mapped (counts as its parent) to Home &amp; kitchen (home).</li>"
        in en
    )
    assert (
        "<li>The group it counts as changed from Other (not mapped) (other) to Home &amp; kitchen (home).</li>"
        in en
    )
    zh = main(c.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode())
    assert "<li>映射由 未映射（按上级品类计算） 改为 家居厨房（home）。</li>" in zh
