"""Forms for Manage Orders filters and authorized senders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from parley.marketplace.models import Order
from parley.sellercentral.queries import OrderFilter


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label=_("Search"),
        help_text=_("Order ID, or the beginning of a buyer name, SKU or product title"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(
        required=False, label=_("Status"), choices=[("", _("All statuses")), *Order.Status.choices]
    )
    start = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, tz: dt.tzinfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            # A range that contains no day applies neither of its dates, and says so.
            self.add_error(
                "end",
                _("The end date is before the start date, so no dates were applied. Correct one of them."),
            )
            data.pop("start", None)
        return data

    def to_filter(self) -> OrderFilter:
        d = self.cleaned_data
        # Dates are days in the seller's time zone: [start 00:00, end + 1 day 00:00). The first and
        # the last day of the calendar bound nothing (and their instants may not exist in UTC).
        first, last = d.get("start"), d.get("end")
        start = (
            dt.datetime.combine(first, dt.time.min, tzinfo=self.tz) if first and first > dt.date.min else None
        )
        end = (
            dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)
            if last and last < dt.date.max
            else None
        )
        return OrderFilter(
            q=d.get("q") or "", status=d.get("status") or "", start=start, end=end, page=d.get("page") or 1
        )


class AddSenderForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
