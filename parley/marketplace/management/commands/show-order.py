"""`parley show-order ORDER_ID [--json]`: an order as its seller sees it, and the contact reasons open now."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from parley.core import time
from parley.marketplace import actions, selectors
from parley.marketplace.models import Order


def _when(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def order_view(order: Order) -> dict[str, Any]:
    """What a seller may know about one order: the buyer's name and relay address, never their email."""
    items = list(order.items.select_related("category", "marketplace_category").order_by("id"))
    return {
        "id": order.id,
        "marketplace": {"id": order.marketplace_id, "name": order.marketplace.name},
        "seller": {"id": order.seller_id, "name": order.seller.display_name},
        "buyer": {"name": order.buyer.name},
        "buyer_relay_address": actions.do_buyer_relay_address(order=order),
        "status": order.status,
        "fulfillment": order.fulfillment,
        "purchased_at": _when(order.purchased_at),
        "shipped_at": _when(order.shipped_at),
        "delivered_at": _when(order.delivered_at),
        "items": [
            {"sku": i.sku, "title": i.title, "category": i.category_code, "quantity": i.quantity}
            for i in items
        ],
        "contact_reasons": selectors.contact_reasons_for(order, now=time.now()),
    }


class Command(BaseCommand):
    help = "Show one order: seller, buyer name, relay address, items and which contact reasons are open now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("order_id")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args: Any, **options: Any) -> None:
        order = (
            Order.objects.select_related("marketplace", "seller", "buyer")
            .filter(id=options["order_id"])
            .first()
        )
        if order is None:
            raise CommandError(f"no order {options['order_id']!r}")
        view = order_view(order)
        if options["json"]:
            self.stdout.write(json.dumps(view, ensure_ascii=False, indent=2))
            return
        for line in _text(view):
            self.stdout.write(line)


def _text(v: dict[str, Any]) -> list[str]:
    lines = [
        f"Order {v['id']}  ({v['marketplace']['name']}, {v['marketplace']['id']})",
        f"  Seller:     {v['seller']['name']} ({v['seller']['id']})",
        f"  Buyer:      {v['buyer']['name']}",
        f"  Write to:   {v['buyer_relay_address']}",
        f"  Status:     {v['status']} ({v['fulfillment']} fulfilled)",
        f"  Purchased:  {v['purchased_at']}",
        f"  Shipped:    {v['shipped_at'] or '-'}",
        f"  Delivered:  {v['delivered_at'] or '-'}",
        "  Items:",
    ]
    lines += [f"    {i['quantity']} x {i['title']}  [{i['category']}, SKU {i['sku']}]" for i in v["items"]]
    lines.append("  Contact reasons (x = available now, ! = critical):")
    for r in v["contact_reasons"]:
        mark = "x" if r["available"] else " "
        crit = "!" if r["critical"] else " "
        line = f"    [{mark}]{crit} {r['code']:<32} {r['name_en']} / {r['name_zh']}"
        if not r["available"] and r["unavailable_reason"]:
            line += f"  -- {r['unavailable_reason']['en']}"
        lines.append(line)
    return lines
