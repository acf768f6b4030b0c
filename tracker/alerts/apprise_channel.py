"""Chat and push services through Apprise URLs (slack://, tgram://, ntfy://, json://, ...)."""

from __future__ import annotations

import apprise

from tracker.alerts.channels import DeliveryError, Message, Recipient


def check_apprise_url(url: str) -> None:
    """Subscribe-time check: ValueError unless Apprise knows this URL's service and form."""
    if not url or not url.strip():
        raise ValueError("Apprise URL is empty")
    if apprise.Apprise.instantiate(url.strip()) is None:
        raise ValueError(
            "not an Apprise URL that Apprise can use (unknown service or malformed); "
            "see https://github.com/caronc/apprise/wiki for the URL forms"
        )


def _reason(result: object) -> str:
    """Apprise's own warnings about a failed notify, when this version records them."""
    logs = getattr(result, "logs", None)
    if not callable(logs):
        return ""
    messages = [str(entry.message) for entry in logs() if entry.level in ("WARNING", "ERROR")]
    return ": " + "; ".join(messages[-3:]) if messages else ""


class AppriseChannel:
    """Sends the subject as title and the plain text as body to the recipient's Apprise URL."""

    def send(self, recipient: Recipient, message: Message) -> None:
        notifier = apprise.Apprise()
        if not notifier.add(recipient.target):
            raise DeliveryError("not a usable Apprise URL", retryable=False)
        try:
            result = notifier.notify(
                title=message.subject, body=message.text, body_format=apprise.NotifyFormat.TEXT
            )
        except Exception as exc:  # noqa: BLE001 (a plugin's bug or network error: retry later)
            raise DeliveryError(f"Apprise failed: {type(exc).__name__}: {exc}") from None
        if not result:
            raise DeliveryError("Apprise could not deliver" + _reason(result))
