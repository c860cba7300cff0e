import logging

import httpx

from ..core.config import settings

log = logging.getLogger(__name__)


def send_share_email(to: str, note_title: str, sender: str) -> None:
    """Runs as a FastAPI background task after the response is sent."""
    payload = {"to": to, "subject": f"{sender} shared a note with you", "text": f'"{note_title}" is waiting for you.'}
    try:
        resp = httpx.post(settings.MAILER_URL, json=payload, headers={"Authorization": f"Bearer {settings.MAILER_API_KEY}"}, timeout=10, verify=False)
        resp.raise_for_status()
    except httpx.HTTPError:
        log.exception("could not send share mail to %s", to)
