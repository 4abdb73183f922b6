"""Django admin for every model: audit data is read-only; standing and policy settings change only
through the console, where each change is validated and recorded."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from parley.conversations.models import Attachment, Conversation, Flag, Message, PolicyDecision, Violation
from parley.delivery.models import OutboundMail
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
    StandingChange,
)
from parley.operators.models import ReviewDecision, SettingsChange
from parley.policy.models import ContactReason

admin.site.site_header = _("Parley operators")
admin.site.site_title = _("Parley admin")

# Never shown in the admin, even read-only: credentials and raw bytes.
SECRET_HINTS = ("secret", "hash", "token", "password", "data")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit records: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Marketplace)
class MarketplaceAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "policy_mode", "default_locale", "console_link"]
    policy_fields = [
        "policy_mode",
        "tag_words",
        "daily_cap_multiplier",
        "daily_cap_base",
        "reply_answers",
        "reply_window_days",
        "enforcement",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Policy settings: edited in the console (validation + history). New marketplaces start on defaults.
        return [*self.policy_fields, "console_link"] if obj else ["console_link"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            ["id", "name", "default_locale", *self.policy_fields, "console_link"]
            if obj
            else ["id", "name", "default_locale"]
        )

    @admin.display(description=_("Policy settings"))
    def console_link(self, obj: Marketplace) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("operators:marketplace", args=[obj.pk]),
            _("Edit in the operator console"),
        )


class AuthorizedSenderInline(admin.TabularInline):
    model = AuthorizedSender
    extra = 0
    fields = ["email", "confirmed_at", "created_at"]
    readonly_fields = ["confirmed_at", "created_at"]


class StandingChangeInline(ReadOnlyInline):
    model = StandingChange
    fields = readonly_fields = ("created_at", "from_status", "to_status", "until", "reason", "actor")


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "status", "proactive_blocked_until"]
    list_filter = ["status"]
    search_fields = ["id", "display_name", "email"]
    readonly_fields = ["status", "proactive_blocked_until", "console_link"]
    raw_id_fields = ["user"]
    inlines = [AuthorizedSenderInline, StandingChangeInline]

    @admin.display(description=_("Standing"))
    def console_link(self, obj: Seller) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("operators:seller", args=[obj.pk]),
            _("Change standing in the operator console"),
        )


@admin.register(Buyer)
class BuyerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "locale", "opted_out"]
    list_filter = ["opted_out", "locale"]
    search_fields = ["id", "name", "email"]
    # The buyer's own choice: only they change it (Communication preferences).
    readonly_fields = ["opted_out"]
    raw_id_fields = ["user"]


@admin.register(ProductCategory)
class ProductCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh"]


@admin.register(MarketplaceCategory)
class MarketplaceCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "marketplace", "parent_code", "group", "effective_group", "in_tree"]
    list_filter = ["marketplace", "in_tree", "effective_group"]
    search_fields = ["code"]
    # Mapped in the console (Policy settings -> Categories), which works out the groups and keeps history.
    readonly_fields = ["group", "effective_group"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    raw_id_fields = ["marketplace_category"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "seller", "buyer", "status", "fulfillment", "purchased_at"]
    list_filter = ["status", "fulfillment", "marketplace"]
    search_fields = ["id", "seller__id", "buyer__id"]
    raw_id_fields = ["seller", "buyer"]
    inlines = [OrderItemInline]


@admin.register(RelayAddress)
class RelayAddressAdmin(ReadOnlyAdmin):
    list_display = ["local_part", "kind", "buyer", "seller", "created_at"]
    list_filter = ["kind"]
    search_fields = ["local_part", "buyer__id", "seller__id"]


@admin.register(StandingChange)
class StandingChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "seller", "from_status", "to_status", "until", "actor"]
    list_filter = ["to_status"]
    search_fields = ["seller__id", "seller__display_name", "reason"]


@admin.register(ContactReason)
class ContactReasonAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_en", "critical", "active", "position", "console_link"]
    list_filter = ["critical", "active"]

    @admin.display(description=_("Edit"))
    def console_link(self, obj: ContactReason) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("operators:reason", args=[obj.pk]),
            _("Edit in the operator console"),
        )


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["order", "seller", "buyer", "last_message_at"]
    search_fields = ["order__id", "seller__id", "buyer__id"]


class PolicyDecisionInline(ReadOnlyInline):
    model = PolicyDecision
    fields = readonly_fields = ("action", "critical", "tagged", "policy_mode", "hits", "decided_at")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = readonly_fields = (
        "public_id",
        "filename",
        "content_type",
        "size",
        "quarantined",
        "sha256",
        "download",
    )

    @admin.display(description=_("Download"))
    def download(self, obj: Attachment) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("operators:attachment", args=[obj.public_id]), _("Download")
        )


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "public_id",
        "created_at",
        "direction",
        "channel",
        "seller",
        "state",
        "state_code",
        "critical",
        "tagged",
    ]
    list_filter = ["direction", "channel", "state", "critical", "tagged", "auto_reply"]
    search_fields = ["public_id", "seller__id", "buyer__id", "subject", "conversation__order__id"]
    date_hierarchy = "created_at"
    inlines = [PolicyDecisionInline, AttachmentInline]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = [
        "public_id",
        "filename",
        "content_type",
        "size",
        "quarantined",
        "message",
        "created_at",
        "download",
    ]
    list_filter = ["quarantined"]
    exclude = ["file"]  # read through the operator download, not a storage URL

    @admin.display(description=_("Download"))
    def download(self, obj: Attachment) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("operators:attachment", args=[obj.public_id]), _("Download")
        )

    search_fields = ["public_id", "sha256", "filename"]


@admin.register(PolicyDecision)
class PolicyDecisionAdmin(ReadOnlyAdmin):
    list_display = ["message", "action", "critical", "tagged", "policy_mode", "decided_at"]
    list_filter = ["action", "policy_mode"]
    search_fields = ["message__public_id"]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "category", "status", "message", "buyer", "review_link"]
    list_filter = ["status", "category"]
    search_fields = ["message__public_id", "buyer__id"]

    @admin.display(description=_("Review"))
    def review_link(self, obj: Flag) -> str:
        return format_html('<a href="{}">{}</a>', reverse("operators:flag", args=[obj.pk]), _("Review"))


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "seller", "kind", "status", "review_link"]
    list_filter = ["kind", "status"]
    search_fields = ["seller__id", "detail"]

    @admin.display(description=_("Review"))
    def review_link(self, obj: Violation) -> str:
        return format_html('<a href="{}">{}</a>', reverse("operators:violation", args=[obj.pk]), _("Review"))


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "purpose", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["purpose", "state"]
    exclude = ["data"]


@admin.register(SettingsChange)
class SettingsChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "object_id", "actor", "note"]
    list_filter = ["kind"]


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "decision", "flag", "violation", "actor"]
    list_filter = ["decision"]


class PreferenceChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "buyer", "opted_out"]
    list_filter = ["opted_out"]
    search_fields = ["buyer__id"]


# Looked up by name: the buyers app is a sibling channel, which the operators' app does not import.
admin.site.register(apps.get_model("buyers", "PreferenceChange"), PreferenceChangeAdmin)


def _register_remaining() -> None:
    """Every other Parley model (API credentials, webhooks, ...): read-only, secrets left out."""
    for model in apps.get_models():
        if not model.__module__.startswith("parley.") or admin.site.is_registered(model):
            continue
        hidden = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.Field) and any(h in f.name for h in SECRET_HINTS)
        ]
        shown = [
            f.name
            for f in model._meta.get_fields()
            if isinstance(f, models.Field)
            and not f.auto_created
            and f.name not in hidden
            and not f.many_to_many
        ]
        attrs: dict[str, Any] = {"exclude": hidden, "list_display": ["__str__", *shown[:6]]}
        admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), attrs))


_register_remaining()
