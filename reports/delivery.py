"""Report delivery: a Slack-compatible webhook and SMTP email, both off unless configured.

Failures are retried with backoff and logged; the report itself is already archived in the
store before delivery starts, so a failed delivery never loses it.
"""

from __future__ import annotations

import logging
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from costopt.config import ReportSettings

log = logging.getLogger("costopt.delivery")
# httpx logs each request's full URL at INFO, and a webhook's URL is its credential: keep
# httpx's request log off whatever level the process logs at.
logging.getLogger("httpx").setLevel(logging.WARNING)
ATTEMPTS = 3


def _retry(what: str, action: Any) -> bool:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            action()
            return True
        except Exception as exc:  # network and server errors alike
            log.warning("%s failed (attempt %d/%d): %s", what, attempt, ATTEMPTS,
                        type(exc).__name__)
            if attempt < ATTEMPTS:
                time.sleep(0.5 * 2 ** (attempt - 1))
    log.error("%s failed after %d attempts; the report is archived in the store", what,
              ATTEMPTS)
    return False


def post_webhook(settings: ReportSettings, payload: dict[str, Any]) -> bool:
    """Post one message to the configured webhook, with the retries; False if it failed
    (or no webhook is configured)."""
    if not settings.webhook_url:
        return False
    url = settings.webhook_url.get_secret_value()

    def post() -> None:
        response = httpx.post(url, json=payload, timeout=10)
        response.raise_for_status()
    return _retry("webhook delivery", post)


def deliver(settings: ReportSettings, summary: dict[str, Any], report_id: str,
            html_path: Path) -> dict[str, bool]:
    results: dict[str, bool] = {}
    text = (f"costopt weekly report {report_id}: fleet cost {summary.get('monthly_cost')} "
            f"per month, savings available {summary.get('savings_available')} per month, "
            f"{summary.get('recommendations')} recommendations")
    if settings.webhook_url:
        url = settings.webhook_url.get_secret_value()

        def post() -> None:
            response = httpx.post(url, json={"text": text}, timeout=10)
            response.raise_for_status()
        results["webhook"] = _retry("webhook delivery", post)
    if settings.smtp_host and settings.smtp_to and settings.smtp_from:
        host, port = settings.smtp_host, settings.smtp_port
        message = EmailMessage()
        message["Subject"] = "costopt weekly report"
        message["From"] = settings.smtp_from
        message["To"] = ", ".join(settings.smtp_to)
        message.set_content(text)
        message.add_attachment(html_path.read_bytes(), maintype="text", subtype="html",
                               filename=html_path.name)

        def send() -> None:
            with smtplib.SMTP(host, port, timeout=10) as smtp:
                smtp.send_message(message)
        results["email"] = _retry("email delivery", send)
    return results


def deliver_to_owner(settings: ReportSettings, owner: str, text: str) -> bool | None:
    """A team's page to its own webhook (`report.owner_webhooks`); None: the team has none."""
    secret = settings.owner_webhooks.get(owner)
    if secret is None:
        return None
    url = secret.get_secret_value()

    def post() -> None:
        response = httpx.post(url, json={"text": text}, timeout=10)
        response.raise_for_status()
    return _retry(f"webhook delivery to {owner}", post)
