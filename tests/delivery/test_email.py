"""Email over a real local SMTP server (aiosmtpd): multipart, Hebrew, right-to-left."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from salesradar.delivery import EmailChannel, Person, deliver

from .delivery_helpers import T0, seeded_store
from .servers import smtp_server


def _part(mail: EmailMessage, subtype: str) -> str:
    body = mail.get_body(preferencelist=(subtype,))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def test_hebrew_push_arrives_rtl_with_message_id() -> None:
    store = seeded_store()
    people = {"r1": Person("r1", "דנה", "dana@example.co.il", lang="he"),
              "m1": Person("m1", "Manager", "boss@example.com")}
    with smtp_server() as (sink, port):
        channel = EmailChannel("127.0.0.1", port, "radar@example.com", timeout=5)
        report = deliver(store, [channel], T0, directory=people)
        assert (report.queued, report.sent) == (2, 2)
    by_to = {str(m["To"]): m for m in sink.messages}
    hebrew = by_to["dana@example.co.il"]
    assert hebrew["Subject"] == "תובנה חדשה: הלקוח C-1 לא הזמין 41 יום"
    html = _part(hebrew, "html")
    assert 'dir="rtl"' in html and 'lang="he"' in html
    assert "להתקשר לקניין השבוע" in _part(hebrew, "plain")
    assert "₪10,000" in html
    assert hebrew["Message-ID"].startswith("<sr-") and hebrew["Message-ID"].endswith(
        "@example.com>"
    )
    english = by_to["boss@example.com"]
    assert english["Subject"] == "New insight: C-1 has not ordered for 41 days"
    assert 'dir="ltr"' in _part(english, "html")
    assert sink.envelopes[0][0] == "radar@example.com"


def test_smtp_down_then_up_delivers_once() -> None:
    store = seeded_store()
    people = {"r1": Person("r1", "Dana", "dana@example.com"), "m1": Person("m1", "M")}
    with smtp_server() as (_, port):
        pass  # the server is stopped: the port refuses connections now
    channel = EmailChannel("127.0.0.1", port, "radar@example.com", timeout=2)
    first = deliver(store, [channel], T0, directory=people)
    assert (first.sent, first.retrying, first.failed) == (0, 1, 1)  # m1 has no email: permanent
    with smtp_server() as (sink, port2):
        channel.port = port2
        assert deliver(store, [channel], T0 + timedelta(seconds=30), directory=people).sent == 0
        assert deliver(store, [channel], T0 + timedelta(minutes=1), directory=people).sent == 1
        assert deliver(store, [channel], T0 + timedelta(hours=1), directory=people).sent == 0
    assert len(sink.messages) == 1
