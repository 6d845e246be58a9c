"""What is sent: a :class:`Message` per outbox row, rendered in the recipient's language.

A push carries one insight; a weekly digest lists a rep's open insights. Hebrew messages are
right-to-left (``dir="rtl" lang="he"`` on the HTML); the account-manager model gets supportive
wording ("a reminder"), never orders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

from salesradar.currency import exact
from salesradar.insights.store import StoredInsight
from salesradar.lang import Lang


@dataclass(frozen=True)
class Person:
    """A recipient: a rep or a manager, with what each channel needs to reach them."""

    id: str
    name: str
    email: str | None = None
    lang: Lang = "en"
    hubspot_owner_id: str | None = None


@dataclass(frozen=True)
class Message:
    """One rendered message; ``key`` is stable across retries (the idempotency key)."""

    key: str
    kind: Literal["push", "digest"]
    recipient: Person
    subject: str
    text: str
    html: str
    priority: int
    insights: list[dict[str, Any]] = field(default_factory=list)

    @property
    def lang(self) -> Lang:
        return self.recipient.lang

    def payload(self) -> dict[str, Any]:
        """The structured form sent to generic webhooks."""
        return {
            "id": self.key, "kind": self.kind, "lang": self.lang, "subject": self.subject,
            "text": self.text,
            "recipient": {"id": self.recipient.id, "name": self.recipient.name,
                          "email": self.recipient.email},
            "insights": self.insights,
        }


def idempotency_key(message_key: str, channel: str, recipient: str) -> str:
    """The key of one outbox row: the same row always gives the same key, across retries."""
    digest = hashlib.sha256(f"{message_key}|{channel}|{recipient}".encode()).hexdigest()
    return f"sr-{digest[:40]}"


_WORDS: dict[str, dict[str, str]] = {
    "en": {"new": "New insight", "reminder": "Reminder", "why": "Why", "next": "Next step",
           "stake": "At stake", "digest": "Your open insights for week {week}: {n}",
           "intro": "A reminder of what is open on your accounts this week."},
    "he": {"new": "תובנה חדשה", "reminder": "תזכורת", "why": "למה", "next": "הצעד הבא",
           "stake": "בסיכון", "digest": "התובנות הפתוחות שלך לשבוע {week}: {n}",
           "intro": "תזכורת למה שפתוח אצל הלקוחות שלך השבוע."},
}


def shekels(value: float) -> str:
    return exact(value)


def _texts(insight: StoredInsight, lang: Lang) -> tuple[str, str, str]:
    t = insight.he if lang == "he" else insight.en
    return t.what, t.why, t.next_step


def _html(lang: Lang, title: str, body: str) -> str:
    direction = "rtl" if lang == "he" else "ltr"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>"
        f'<body dir="{direction}" style="font-family: Arial, sans-serif">'
        f"<h2>{escape(title)}</h2>{body}</body></html>"
    )


def _insight_block(insight: StoredInsight, lang: Lang) -> tuple[str, str]:
    """The insight as text and as HTML. In Hebrew each number, amount and Latin name is
    isolated left to right (Unicode isolates in the text, ``<bdi>`` in the HTML), so that
    "-20.5%" does not read "20.5%-" in a right-to-left message."""
    from salesradar.web.i18n import isolate_numbers, isolate_plain

    w = _WORDS[lang]
    what, why, step = _texts(insight, lang)
    stake = shekels(insight.value_at_stake)
    text = f"{what}\n{w['why']}: {why}\n{w['next']}: {step}\n{w['stake']}: {stake}"
    part: Callable[[str], str] = isolate_numbers if lang == "he" else escape
    if lang == "he":
        text = "\n".join(isolate_plain(line) for line in text.split("\n"))
    html = (
        f"<p><b>{part(what)}</b><br>{escape(w['why'])}: {part(why)}<br>"
        f"{escape(w['next'])}: {part(step)}<br>{escape(w['stake'])}: {part(stake)}</p>"
    )
    return text, html


def _summary(insight: StoredInsight) -> dict[str, Any]:
    return {
        "insight_id": insight.id, "dedup_key": insight.dedup_key, "kind": insight.kind,
        "subject": {"type": insight.subject_type, "id": insight.subject_id},
        "owner_rep_id": insight.owner_rep_id, "priority": insight.priority,
        "value_at_stake": insight.value_at_stake, "en": insight.en.__dict__.copy(),
        "he": insight.he.__dict__.copy(), "evidence": insight.evidence,
    }


def render_push(
    key: str, insight: StoredInsight, person: Person, *, supportive: bool = False
) -> Message:
    """One insight as an instant message (``supportive``: worded as a reminder)."""
    w = _WORDS[person.lang]
    what, _, _ = _texts(insight, person.lang)
    subject = f"{w['reminder'] if supportive else w['new']}: {what}"
    text, html = _insight_block(insight, person.lang)
    return Message(key, "push", person, subject, text, _html(person.lang, subject, html),
                   insight.priority, [_summary(insight)])


def render_digest(
    key: str, insights: Sequence[StoredInsight], person: Person, week: str
) -> Message:
    """A weekly digest of a rep's open insights, highest priority first."""
    w = _WORDS[person.lang]
    ordered = sorted(insights, key=lambda i: (-i.priority, -i.value_at_stake, i.id))
    subject = w["digest"].format(week=week, n=len(ordered))
    blocks = [_insight_block(i, person.lang) for i in ordered]
    text = w["intro"] + "\n\n" + "\n\n".join(b[0] for b in blocks)
    html = f"<p>{escape(w['intro'])}</p>" + "".join(b[1] for b in blocks)
    return Message(key, "digest", person, subject, text, _html(person.lang, subject, html),
                   max((i.priority for i in ordered), default=0),
                   [_summary(i) for i in ordered])
