"""App config."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "parley.delivery"
    label = "delivery"
    verbose_name = _("Mail delivery")

    def ready(self) -> None:
        # Imported here because Django loads models only after every AppConfig is built.
        from parley.conversations import files  # noqa: PLC0415 - see above
        from parley.core import effects, metrics  # noqa: PLC0415 - see above
        from parley.delivery import blobs, outbox, webhooks  # noqa: PLC0415 - see above
        from parley.delivery.effects import carry_out  # noqa: PLC0415 - see above

        effects.install(carry_out)
        files.add_kind(blobs.TOP, blobs.named)  # stored mails go with the attachments' collection
        metrics.add_source(outbox.gauges)
        metrics.add_source(webhooks.gauges)
