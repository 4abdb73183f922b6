"""Marketplaces, sellers, buyers, categories, orders and the relay addresses between them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.core.ids import relay_local_part

DEFAULT_GROUP = "other"


def default_tag_words() -> list[str]:
    # The English reference text writes the tag as [Important], the Chinese one as [重要].
    return ["Important", "重要"]


def default_enforcement() -> dict[str, int]:
    # Violations (upheld flags + tag misuse) within `window_days` that move a seller down the ladder.
    return {"window_days": 90, "warn": 1, "restrict": 3, "block": 5, "block_days": 14, "suspend": 8}


class Marketplace(models.Model):
    class PolicyMode(models.TextChoices):
        SEED = "seed", _("Reference text (the [Important] tag makes an email critical)")
        REASON_ONLY = "reason-only", _("Contact reason only (the tag has no effect)")

    id = models.CharField(primary_key=True, max_length=20)
    name = models.CharField(max_length=100)
    default_locale = models.CharField(max_length=10, default="en")
    policy_mode = models.CharField(max_length=20, choices=PolicyMode.choices, default=PolicyMode.SEED)
    tag_words = models.JSONField(default=default_tag_words)
    daily_cap_multiplier = models.PositiveIntegerField(default=5)
    daily_cap_base = models.PositiveIntegerField(default=600)
    enforcement = models.JSONField(default=default_enforcement)
    # How far a reply to an opted-out buyer's message goes without a contact reason: this many answers
    # to each buyer message, within this many days of it (a new buyer message opens it again).
    reply_answers = models.PositiveIntegerField(default=1)
    reply_window_days = models.PositiveIntegerField(default=30)
    # Where a category of this marketplace's tree counts when neither it nor an ancestor is mapped
    # onto a group (and where categories that are not in the tree at all count).
    default_group = models.ForeignKey(
        "ProductCategory", on_delete=models.PROTECT, related_name="+", default=DEFAULT_GROUP
    )

    class Meta:
        verbose_name = _("marketplace")
        verbose_name_plural = _("marketplaces")

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Seller(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        WARNED = "warned", _("Warned")
        RESTRICTED = "restricted", _("Messaging restricted")
        BLOCKED = "blocked", _("Proactive messaging blocked")
        SUSPENDED = "suspended", _("Selling suspended")

    id = models.CharField(primary_key=True, max_length=20)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="seller"
    )
    display_name = models.CharField(max_length=100)
    email = models.EmailField(help_text="Primary address: buyer replies are delivered here.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    proactive_blocked_until = models.DateTimeField(null=True, blank=True)
    avg_daily_orders = models.FloatField(default=0)
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta:
        verbose_name = _("seller")
        verbose_name_plural = _("sellers")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.id})"


class AuthorizedSender(models.Model):
    """An address the seller may write to buyers from, in their own mail client."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="authorized_senders")
    email = models.EmailField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirm_token_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("authorized sender")
        verbose_name_plural = _("authorized senders")
        constraints = [models.UniqueConstraint(fields=["seller", "email"], name="uniq_authorized_sender")]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.email


class SenderConfirmationMail(models.Model):
    """A confirmation mail sent for an authorized sender address: kept when the address is removed, so
    that adding it again and again cannot mail its owner again and again."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+", db_index=False)
    email = models.CharField(max_length=254)  # lowercased
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("sender confirmation mail")
        verbose_name_plural = _("sender confirmation mails")
        indexes = [
            models.Index(fields=["email", "sent_at"], name="sender_mail_address"),
            models.Index(fields=["seller", "sent_at"], name="sender_mail_seller"),
        ]

    def __str__(self) -> str:
        return f"{self.email} @ {self.sent_at:%Y-%m-%d %H:%M}"


class Buyer(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="buyer"
    )
    name = models.CharField(max_length=100)
    # Never shown to a seller, never put in a header a seller receives.
    email = models.EmailField()
    locale = models.CharField(max_length=10, default="en-US")
    opted_out = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta:
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class ProductCategory(models.Model):
    """A category group: what the contact-reason catalog refers to (handmade, digital, ...).

    A marketplace's own categories (MarketplaceCategory) are mapped onto these by an operator.
    """

    code = models.SlugField(primary_key=True, max_length=40)
    name_en = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("category group")
        verbose_name_plural = _("category groups")

    def __str__(self) -> str:
        return self.name_en

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") and self.name_zh else self.name_en


class MarketplaceCategory(models.Model):
    """One node of a marketplace's own category tree, as its feed names it.

    `group` is the operator's mapping (empty: inherit the parent's); `effective_group` is the group the
    node counts as, worked out from the mapping, the ancestors and the marketplace's default group
    whenever the tree or a mapping changes (a tree has thousands of nodes; orders have millions of
    items, so items never carry the group themselves). A node that orders named before any tree
    listed it has `in_tree` false.
    """

    marketplace = models.ForeignKey(Marketplace, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(max_length=64)
    parent_code = models.CharField(max_length=64, blank=True)
    names = models.JSONField(default=dict, blank=True)  # language tag -> name
    group = models.ForeignKey(
        ProductCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    effective_group = models.ForeignKey(
        ProductCategory, on_delete=models.PROTECT, related_name="+", default=DEFAULT_GROUP
    )
    in_tree = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("marketplace category")
        verbose_name_plural = _("marketplace categories")
        constraints = [
            models.UniqueConstraint(fields=["marketplace", "code"], name="uniq_marketplace_category")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.marketplace_id})"

    def name(self, language: str) -> str:
        """The name in `language` (zh-hans, zh, en-US, ...), else English, else any, else the code."""
        names = self.names or {}
        lang = language.lower()
        for key in (lang, lang.split("-")[0], "zh-hans" if lang.startswith("zh") else "en", "en"):
            for k, v in names.items():
                if k.lower() == key and v:
                    return str(v)
        return str(next((v for v in names.values() if v), self.code))


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "Pending", _("Pending")
        UNSHIPPED = "Unshipped", _("Unshipped")
        PARTIALLY_SHIPPED = "PartiallyShipped", _("Partially shipped")
        SHIPPED = "Shipped", _("Shipped")
        DELIVERED = "Delivered", _("Delivered")
        CANCELED = "Canceled", _("Canceled")
        RETURNED = "Returned", _("Returned")

    class Fulfillment(models.TextChoices):
        MERCHANT = "merchant", _("Fulfilled by seller")
        MARKETPLACE = "marketplace", _("Fulfilled by marketplace")

    id = models.CharField(primary_key=True, max_length=19)  # 3-7-7 digits
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="orders")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices)
    fulfillment = models.CharField(max_length=20, choices=Fulfillment.choices, default=Fulfillment.MERCHANT)
    purchased_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            # Manage Orders: one seller's orders newest first, optionally by status.
            models.Index(fields=["seller", "-purchased_at"], name="order_seller_recent"),
            models.Index(fields=["seller", "status", "-purchased_at"], name="order_seller_status_recent"),
            # A buyer's orders, and the orders between one buyer and one seller newest first (the
            # mail gateway's look-up for every message; a big seller's index would scan them all).
            models.Index(fields=["buyer", "seller", "-purchased_at"], name="order_buyer_seller_recent"),
        ]

    def __str__(self) -> str:
        return self.id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    # An item names either a node of its marketplace's tree (whose group counts) or, as feeds did
    # before marketplaces brought their own trees, a group directly.
    category = models.ForeignKey(
        ProductCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marketplace_category = models.ForeignKey(
        MarketplaceCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        indexes = [
            models.Index(fields=["sku"]),
            # Titles are searched through a trigram index (migration 0008), which Django cannot declare
            # for both databases.
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity}"

    @property
    def category_code(self) -> str:
        """The category as the feed named it."""
        node = self.marketplace_category
        return node.code if node is not None else str(self.category_id or "")

    def category_name(self, language: str) -> str:
        node, group = self.marketplace_category, self.category
        if node is not None:
            return node.name(language)
        return group.name(language) if group is not None else ""


class RelayAddress(models.Model):
    """An anonymized address for one (buyer, seller) pair; random, stable and never reused.

    kind=buyer: the seller writes here to reach the buyer. kind=seller: the buyer writes here to
    reach the seller.
    """

    class Kind(models.TextChoices):
        BUYER = "buyer", _("Buyer's relay address")
        SELLER = "seller", _("Seller's relay address")

    local_part = models.CharField(max_length=64, unique=True, default=relay_local_part)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="relay_addresses")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="relay_addresses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("relay address")
        verbose_name_plural = _("relay addresses")
        constraints = [
            models.UniqueConstraint(fields=["buyer", "seller", "kind"], name="uniq_relay_pair_kind"),
        ]

    def __str__(self) -> str:
        return self.address()

    def address(self) -> str:
        return f"{self.local_part}@{settings.RELAY_DOMAIN}"


class StandingChange(models.Model):
    """Audit trail of a seller's standing: who moved it, when, why."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="standing_changes")
    from_status = models.CharField(max_length=20, choices=Seller.Status.choices)
    to_status = models.CharField(max_length=20, choices=Seller.Status.choices)
    reason = models.TextField()
    # Parley's own words for steps it takes by itself (the ladder, an ended block); an operator's
    # typed reason is kept as written, in `reason` only.
    reason_zh = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("standing change")
        verbose_name_plural = _("standing changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.seller_id}: {self.from_status} → {self.to_status}"
