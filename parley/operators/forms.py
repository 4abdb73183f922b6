"""Validated forms for the operator's settings editors (used by the console and the admin alike)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from parley.marketplace import selectors as ms
from parley.marketplace.enforcement import validate_thresholds
from parley.marketplace.models import Marketplace, Order, Seller
from parley.policy.models import ContactReason

ORDER_ERROR = _("Each step needs more violations than the one before: warn < restrict < block < suspend.")
CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,63}$")


def _words(raw: str) -> list[str]:
    return [w.strip() for w in re.split(r"[,\n]", raw or "") if w.strip()]


class MarketplacePolicyForm(forms.Form):
    policy_mode = forms.ChoiceField(
        label=_("Policy mode"),
        choices=Marketplace.PolicyMode.choices,
        help_text=_(
            "Reference text: an email whose subject carries a tag word in brackets is treated as critical. "
            "Contact reason only: the tag has no effect."
        ),
    )
    tag_words = forms.CharField(
        label=_("Tag words"),
        help_text=_("One per line or comma-separated, without brackets: Important, 重要"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    daily_cap_multiplier = forms.IntegerField(
        label=_("Times the seller's average daily orders"),
        help_text=_(
            "A seller's daily cap grows with their orders: this many messages a day per daily order."
        ),
        min_value=0,
        max_value=1000,
    )
    daily_cap_base = forms.IntegerField(
        label=_("Plus messages a day"),
        help_text=_("Every seller may send at least this many messages a day, whatever their orders."),
        min_value=1,
        max_value=1_000_000,
    )
    reply_answers = forms.IntegerField(
        label=_("Answers to each message of an opted-out buyer"),
        help_text=_("Without a contact reason; 0: opt-out applies to replies too."),
        min_value=0,
        max_value=100,
    )
    reply_window_days = forms.IntegerField(
        label=_("Within (days of the buyer's message)"),
        help_text=_("After that, a seller needs a contact reason the buyer's opt-out allows."),
        min_value=1,
        max_value=3650,
    )
    window_days = forms.IntegerField(
        label=_("Violations are counted over (days)"),
        help_text=_("Only upheld violations this recent move a seller down the ladder."),
        min_value=1,
        max_value=3650,
    )
    warn = forms.IntegerField(
        label=_("Warn the seller at (upheld violations)"),
        help_text=_("A warning changes nothing the seller can send; it tells them where they stand."),
        min_value=1,
        max_value=3650,
    )
    restrict = forms.IntegerField(
        label=_("Restrict to critical reasons at (upheld violations)"),
        help_text=_("Only the contact reasons needed to complete an order stay available."),
        min_value=1,
        max_value=3650,
    )
    block = forms.IntegerField(
        label=_("Block proactive messaging at (upheld violations)"),
        help_text=_("The seller can only answer buyers' messages while the block lasts."),
        min_value=1,
        max_value=3650,
    )
    block_days = forms.IntegerField(
        label=_("A block lasts (days)"),
        help_text=_("Afterwards the seller is restricted to critical reasons again."),
        min_value=1,
        max_value=3650,
    )
    suspend = forms.IntegerField(
        label=_("Suspend selling at (upheld violations)"),
        help_text=_("A suspended seller can send no message at all."),
        min_value=1,
        max_value=3650,
    )
    note = forms.CharField(label=_("Why this change (kept in the history)"), required=False, max_length=500)

    ENFORCEMENT = ("window_days", "warn", "restrict", "block", "block_days", "suspend")

    @classmethod
    def initial_for(cls, m: Marketplace) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "policy_mode": m.policy_mode,
            "tag_words": "\n".join(m.tag_words or []),
            "daily_cap_multiplier": m.daily_cap_multiplier,
            "daily_cap_base": m.daily_cap_base,
            "reply_answers": m.reply_answers,
            "reply_window_days": m.reply_window_days,
        }
        initial.update({k: (m.enforcement or {}).get(k) for k in cls.ENFORCEMENT})
        return initial

    def clean_tag_words(self) -> list[str]:
        words = _words(self.cleaned_data["tag_words"])
        if not words:
            raise forms.ValidationError(_("Give at least one tag word."))
        seen: set[str] = set()
        for w in words:
            if "[" in w or "]" in w:
                raise forms.ValidationError(
                    _("Write the words without brackets: the brackets are added for you.")
                )
            if len(w) > 30:
                raise forms.ValidationError(_("A tag word can be at most 30 characters."))
            if w.casefold() in seen:
                raise forms.ValidationError(_("“%(word)s” is listed twice.") % {"word": w})
            seen.add(w.casefold())
        if len(words) > 10:
            raise forms.ValidationError(_("At most 10 tag words."))
        return words

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(k in data for k in self.ENFORCEMENT):
            _t, errors = validate_thresholds({k: data[k] for k in self.ENFORCEMENT})
            if errors:
                # The ranges are checked per field, so only the ordering of the steps can fail here.
                self.add_error(None, ORDER_ERROR)
        return data

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "policy_mode": d["policy_mode"],
            "tag_words": d["tag_words"],
            "daily_cap_multiplier": d["daily_cap_multiplier"],
            "daily_cap_base": d["daily_cap_base"],
            "reply_answers": d["reply_answers"],
            "reply_window_days": d["reply_window_days"],
            "enforcement": {k: d[k] for k in self.ENFORCEMENT},
        }


def marketplace_snapshot(m: Marketplace) -> dict[str, Any]:
    return {
        "policy_mode": m.policy_mode,
        "tag_words": list(m.tag_words or []),
        "daily_cap_multiplier": m.daily_cap_multiplier,
        "daily_cap_base": m.daily_cap_base,
        "reply_answers": m.reply_answers,
        "reply_window_days": m.reply_window_days,
        "enforcement": dict(m.enforcement or {}),
    }


REASON_FIELDS = [
    "name_en",
    "name_zh",
    "critical",
    "solicitation",
    "once_per_order",
    "order_statuses",
    "categories",
    "fulfillment_channels",
    "window_anchor",
    "window_start_days",
    "window_end_days",
    "max_length",
    "attachments",
    "max_attachments",
    "allows_links",
    "subject_en",
    "subject_zh",
    "unavailable_en",
    "unavailable_zh",
    "active",
    "position",
    "sp_api_action",
]


# The editor's labels and help, also the words the settings history uses for each field.
REASON_LABELS = {
    "code": _("Code (used by messages and the API; fixed once created)"),
    "name_en": _("Name in English"),
    "name_zh": _("Name in Chinese"),
    "critical": _("Critical: needed to complete the order"),
    "solicitation": _("Asks for a review or feedback"),
    "once_per_order": _("Once per order"),
    "order_statuses": _("Order statuses"),
    "categories": _("Category groups (none: any)"),
    "fulfillment_channels": _("Fulfillment (none: any)"),
    "window_anchor": _("The window counts from"),
    "window_start_days": _("The window opens (days after that date)"),
    "window_end_days": _("The window closes (days after that date)"),
    "max_length": _("Longest message (characters)"),
    "attachments": _("Attachments"),
    "max_attachments": _("Most attachments"),
    "allows_links": _("Links allowed"),
    "subject_en": _("Subject in English"),
    "subject_zh": _("Subject in Chinese"),
    "unavailable_en": _("Why it is unavailable, in English"),
    "unavailable_zh": _("Why it is unavailable, in Chinese"),
    "active": _("Offered to sellers"),
    "position": _("Position in the list"),
    "sp_api_action": _("SP-API action name"),
}
REASON_HELP = {
    "critical": _("Critical messages reach buyers who opted out, and may carry [Important]."),
    "solicitation": _("Such a message is never critical, and a buyer who opted out never receives it."),
    "once_per_order": _("A seller can send this reason only once for an order."),
    "window_start_days": _("Empty: open from that date."),
    "window_end_days": _("Empty: it never closes."),
    "subject_en": _("Must contain {order_id}; sellers cannot change the subject."),
    "subject_zh": _("Must contain {order_id}; sellers cannot change the subject."),
    "unavailable_en": _("Shown to the seller when the order does not allow this reason."),
    "unavailable_zh": _("Shown to the seller when the order does not allow this reason."),
    "position": _("Lower numbers come first on Contact Buyer."),
    "sp_api_action": _("The name the Selling Partner API gives this action; empty if none."),
}


def mark_errors(form: forms.BaseForm) -> forms.BaseForm:
    """Tie each field to its help and its error messages, and mark the invalid ones for screen readers.

    Labels stand above their fields without a colon: Django's ":" would be half-width after Chinese.
    """
    form.label_suffix = ""
    for name, field in form.fields.items():
        ids = []
        if field.help_text:
            ids.append(f"help-{name}")
        if form.is_bound and name in form.errors:
            field.widget.attrs["aria-invalid"] = "true"
            ids.append(f"err-{name}")
        if ids:
            field.widget.attrs["aria-describedby"] = " ".join(ids)
    return form


def reason_snapshot(r: ContactReason) -> dict[str, Any]:
    return {"code": r.code, **{f: getattr(r, f) for f in REASON_FIELDS}}


class ContactReasonForm(forms.ModelForm):
    order_statuses = forms.MultipleChoiceField(
        label=REASON_LABELS["order_statuses"],
        help_text=_("The reason is offered while the order has one of these statuses."),
        choices=Order.Status.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    categories = forms.MultipleChoiceField(
        label=REASON_LABELS["categories"],
        help_text=_("A marketplace's own categories count as the groups an operator maps them onto."),
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    fulfillment_channels = forms.MultipleChoiceField(
        label=REASON_LABELS["fulfillment_channels"],
        choices=Order.Fulfillment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Why this change (kept in the history)"), required=False, max_length=500)

    class Meta:
        model = ContactReason
        fields = ["code", *REASON_FIELDS]
        labels = REASON_LABELS
        help_texts = REASON_HELP

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        categories: Any = self.fields["categories"]
        categories.choices = group_choices()
        if self.instance and self.instance.pk:
            # The code is the reason's identity: messages and the API refer to it.
            self.fields["code"].disabled = True
        self.fields["max_length"].min_value = 1  # type: ignore[attr-defined]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if not self.instance.pk and not CODE_RE.match(code or ""):
            raise forms.ValidationError(_("Use letters, digits and underscores, starting with a letter."))
        return str(code)

    def _subject(self, field: str) -> str:
        value = self.cleaned_data.get(field, "")
        if "{order_id}" not in value:
            raise forms.ValidationError(_("The subject must contain {order_id}."))
        try:
            value.format(order_id="113-0000000-0000000")
        except (KeyError, IndexError, ValueError):
            raise forms.ValidationError(_("Only the placeholder {order_id} may appear in braces.")) from None
        return str(value)

    def clean_subject_en(self) -> str:
        return self._subject("subject_en")

    def clean_subject_zh(self) -> str:
        return self._subject("subject_zh")

    def clean_max_length(self) -> int:
        value = self.cleaned_data["max_length"]
        if not 1 <= value <= 20000:
            raise forms.ValidationError(_("Between 1 and 20000 characters."))
        return int(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("window_start_days"), data.get("window_end_days")
        if start is not None and end is not None and start > end:
            self.add_error("window_end_days", _("The window must end after it starts."))
        for f in ("window_start_days", "window_end_days"):
            if data.get(f) is not None and not -3650 <= data[f] <= 3650:
                self.add_error(f, _("Between -3650 and 3650 days."))
        att, n = data.get("attachments"), data.get("max_attachments")
        if att == ContactReason.Attachments.NONE and n:
            self.add_error("max_attachments", _("Attachments are not allowed, so the maximum must be 0."))
        if att == ContactReason.Attachments.REQUIRED and not n:
            self.add_error("max_attachments", _("Attachments are required, so allow at least one."))
        if n is not None and n > 20:
            self.add_error("max_attachments", _("At most 20 attachments."))
        if data.get("solicitation") and data.get("critical"):
            self.add_error("critical", _("A review or feedback request is never critical."))
        return data


def group_choices() -> list[tuple[str, str]]:
    lang = get_language() or "en"
    # Chinese takes full-width brackets around the code.
    fmt = "{name}（{code}）" if lang.startswith("zh") else "{name} ({code})"
    return [(g.code, fmt.format(name=g.name(lang), code=g.code)) for g in ms.product_categories()]


class CategoryMappingForm(forms.Form):
    """Which group one node of a marketplace's category tree counts as."""

    group = forms.ChoiceField(
        label=_("Category group"),
        required=False,
        help_text=_("Not mapped: the category counts as its parent's group (at the top: the default group)."),
    )
    note = forms.CharField(label=_("Why this change (kept in the history)"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group: Any = self.fields["group"]
        group.choices = [("", _("Not mapped: as its parent")), *group_choices()]


class DefaultGroupForm(forms.Form):
    """Where a marketplace's categories count when neither they nor an ancestor is mapped."""

    default_group = forms.ChoiceField(label=_("Default group"))
    note = forms.CharField(label=_("Why this change (kept in the history)"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["default_group"]
        field.choices = group_choices()


STANDING_CHOICES = [(s.value, s.label) for s in Seller.Status]


class StandingForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New standing"), choices=STANDING_CHOICES)
    reason = forms.CharField(label=_("Reason (kept in the audit trail)"), max_length=1000)
    block_days = forms.IntegerField(label=_("Block for (days)"), min_value=1, max_value=3650, required=False)
