"""The outbox: what to send to whom on which channel, and the loop that sends it.

Planning (:func:`plan`) turns open, non-holdout insights into outbox rows, one per
(message, channel, recipient); a unique constraint makes queueing the same thing twice impossible.
The **centre** model queues an instant push per insight to the owning rep and their manager on
personal channels (email, webhook) and once, for the owner, on shared ones (Slack, Teams, HubSpot
tasks), at most ``daily_limit_per_rep`` insights per recipient per UTC day (highest priority
first; the rest wait for the next day). The **account** model queues one weekly digest per rep,
worded as a reminder, listing the rep's open insights, on the first run on or after the team's
digest weekday; no pushes, nothing to the manager.

Sending (:func:`deliver`) works row by row:

1. *claim*: in its own committed transaction, a conditional ``UPDATE`` moves the row to
   ``sending`` (attempts + 1, ``claimed_at`` = now); if another process claimed it first, skip;
2. *send* on the channel, with the row's stable idempotency key (``Idempotency-Key`` header on
   webhooks, ``Message-ID`` on email);
3. *record*: ``sent``; or, on failure, ``retry`` with ``next_attempt_at`` = now + base·2^(n−1)
   (capped), ``failed`` after ``max_attempts`` or on a permanent error (HTTP 4xx, refused
   recipient), ``unknown`` on an ambiguous failure of a channel without idempotency.

A row is never claimed while another run holds it, so two runs never send it at once. Retries
happen on later runs: ``deliver`` itself never sleeps.

**Guarantees, honestly.** A crash (or kill) between *send* and *record* leaves the row in
``sending``; the next run cannot know whether the message arrived. After ``lease`` the row is
treated as follows:

* idempotent channels (webhook, email) re-send it with the *same* key: at-least-once delivery,
  and exactly-once *processing* where the receiver drops repeated keys (our webhook contract
  requires it; mail systems may or may not collapse equal ``Message-ID`` headers);
* Slack, Teams and HubSpot tasks accept no idempotency key, so the row becomes ``unknown`` and is
  not re-sent: at-most-once (a message can be lost, never doubled). The same holds for a timeout
  after the request left (the receiver may have it). :func:`requeue_unknown` sends such rows
  again when a person decides a duplicate is better than a loss.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from salesradar.app import InsightRow, OutboxRow, TeamSettings
from salesradar.app.db import default_team_settings
from salesradar.delivery.channels import Channel, DeliveryError
from salesradar.delivery.message import Message, Person, idempotency_key, render_digest, render_push
from salesradar.errors import UserInputError
from salesradar.insights.lifecycle import OPEN
from salesradar.insights.model import Status
from salesradar.insights.store import InsightStore, StoredInsight, add_event

PENDING, SENDING, RETRY, SENT = "pending", "sending", "retry", "sent"
FAILED, UNKNOWN, CANCELLED = "failed", "unknown", "cancelled"
OPEN_VALUES = [s.value for s in OPEN]


@dataclass(frozen=True)
class DeliverySettings:
    """Retry policy: attempts, exponential backoff, and how long a claim may stay in flight."""

    max_attempts: int = 8
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_cap: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(minutes=15)


def backoff(attempts: int, settings: DeliverySettings) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: base·2^(attempts−1), capped."""
    wait: timedelta = settings.backoff_base * 2 ** max(0, attempts - 1)
    return min(settings.backoff_cap, wait)


@dataclass
class DeliveryReport:
    """What one :func:`deliver` call did (``previews`` only on a dry run)."""

    queued: int = 0
    deferred: int = 0  # over the daily limit: queued on a later day
    unroutable: int = 0  # recipient not in the directory
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0
    previews: list[tuple[str, Message]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {k: v for k, v in self.__dict__.items() if k != "previews"}
        out["previews"] = [
            {"channel": c, "to": m.recipient.id, "subject": m.subject, "key": m.key}
            for c, m in self.previews
        ]
        return out


def _iso_week(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def plan(
    session: Session, channels: Sequence[Channel], now: datetime,
    directory: Mapping[str, Person], report: DeliveryReport,
) -> None:
    """Queue outbox rows for what is due now (see the module docstring for the rules)."""
    rows = list(session.scalars(
        select(InsightRow).where(
            InsightRow.holdout.is_(False), InsightRow.resolved_at.is_(None),
            InsightRow.status.in_(OPEN_VALUES),
        ).order_by(InsightRow.priority.desc(), InsightRow.value_at_stake.desc(), InsightRow.id)
    ))
    existing = {
        (str(r[0]), str(r[1]), str(r[2])) for r in session.execute(
            select(OutboxRow.message_key, OutboxRow.channel, OutboxRow.recipient)
        )
    }
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today: Counter[str] = Counter({
        str(r[0]): int(r[1]) for r in session.execute(
            select(OutboxRow.recipient, func.count(func.distinct(OutboxRow.message_key)))
            .where(OutboxRow.kind == "push", OutboxRow.created_at >= day,
                   OutboxRow.created_at < day + timedelta(days=1))
            .group_by(OutboxRow.recipient)
        )
    })

    def queue(key: str, recipient: str, kind: str, ids: list[int], names: list[str]) -> None:
        for channel in names:
            if (key, channel, recipient) not in existing:
                session.add(OutboxRow(
                    message_key=key, channel=channel, recipient=recipient, kind=kind,
                    insight_id=ids[0] if kind == "push" else None, insight_ids={"ids": ids},
                    status=PENDING, attempts=0, created_at=now, next_attempt_at=now,
                ))
                existing.add((key, channel, recipient))
                report.queued += 1

    teams = {t.team: t for t in session.scalars(select(TeamSettings))}
    digests: dict[str, list[int]] = {}
    for row in rows:
        team = teams.get(row.team or "") or default_team_settings(row.team)
        if team.operating_model == "account":
            if row.owner_rep_id and now.weekday() >= team.digest_weekday:
                digests.setdefault(row.owner_rep_id, []).append(row.id)
            continue
        if row.status != Status.NEW:
            continue
        key = f"insight:{row.id}:r{row.round}"
        owner = row.owner_rep_id or row.manager_id
        for recipient in dict.fromkeys(r for r in (row.owner_rep_id, row.manager_id) if r):
            names = [c.name for c in channels if c.audience == "personal" or recipient == owner]
            if not names:
                continue
            if recipient not in directory:
                report.unroutable += 1
                continue
            if not any((key, c, recipient) in existing for c in names):
                if today[recipient] >= team.daily_limit_per_rep:
                    report.deferred += 1
                    continue
                today[recipient] += 1
            queue(key, recipient, "push", [row.id], names)
    for rep, ids in digests.items():
        if rep not in directory:
            report.unroutable += 1
            continue
        queue(f"digest:{rep}:{_iso_week(now)}", rep, "digest", ids, [c.name for c in channels])


def _render(s: Session, row: OutboxRow, person: Person) -> Message | None:
    """The message for ``row`` from the insights as they are now; None if none is open anymore."""
    ids: list[int] = row.insight_ids["ids"]
    insights = [
        StoredInsight.of(i) for i in s.scalars(select(InsightRow).where(InsightRow.id.in_(ids)))
        if i.status in OPEN_VALUES and i.resolved_at is None
    ]
    if not insights:
        return None
    key = idempotency_key(row.message_key, row.channel, row.recipient)
    if row.kind == "digest":
        return render_digest(key, insights, person, row.message_key.rsplit(":", 1)[1])
    return render_push(key, insights[0], person)


def deliver(
    store: InsightStore, channels: Sequence[Channel], now: datetime, *,
    directory: Mapping[str, Person], settings: DeliverySettings | None = None,
    dry_run: bool = False,
) -> DeliveryReport:
    """Queue what is due, then send every due outbox row once; return what happened.

    ``now`` (timezone-aware) is the clock of the whole run: claims, backoff and the daily limit
    use it, so a test or a replay can pass any time. ``directory`` maps rep ids to recipients.
    ``dry_run`` plans and renders in a transaction that is rolled back: nothing is queued or sent,
    ``previews`` lists what would go out now.
    """
    if now.tzinfo is None:
        raise UserInputError("now must be timezone-aware, e.g. datetime.now(UTC)")
    settings = settings or DeliverySettings()
    by_name = {c.name: c for c in channels}
    if len(by_name) != len(channels):
        raise UserInputError("two channels share a name: give each its own name=...")
    report = DeliveryReport()
    stale = now - settings.lease
    due = select(OutboxRow.id).where(
        OutboxRow.channel.in_(list(by_name)),
        or_(
            OutboxRow.status.in_([PENDING, RETRY]) & (OutboxRow.next_attempt_at <= now),
            (OutboxRow.status == SENDING) & (OutboxRow.claimed_at <= stale),
        ),
    ).order_by(OutboxRow.id)
    if dry_run:
        with store.db.scratch_session() as s:
            plan(s, channels, now, directory, report)
            s.flush()
            for row in s.scalars(select(OutboxRow).where(OutboxRow.id.in_(s.scalars(due)))):
                person = directory.get(row.recipient)
                message = _render(s, row, person) if person else None
                if message is not None:
                    report.previews.append((row.channel, message))
        return report
    for attempt in range(3):
        planned = DeliveryReport()
        try:
            with store.db.session() as s:
                plan(s, channels, now, directory, planned)
            break
        except IntegrityError:  # a concurrent run queued the same rows first: plan again
            if attempt == 2:
                raise
    report.queued, report.deferred = planned.queued, planned.deferred
    report.unroutable = planned.unroutable
    with store.db.session() as s:
        ids = list(s.scalars(due))
    for outbox_id in ids:
        _deliver_one(store, outbox_id, by_name, now, directory, settings, report)
    return report


def _finish(
    store: InsightStore, outbox_id: int, status: str, now: datetime, report: DeliveryReport,
    *, error: str | None = None, retry_at: datetime | None = None,
) -> None:
    with store.db.session() as s:
        row = s.get_one(OutboxRow, outbox_id)
        row.status, row.last_error = status, error
        if retry_at is not None:
            row.next_attempt_at = retry_at
        if status == SENT:
            row.sent_at = now
            for insight in s.scalars(
                select(InsightRow).where(InsightRow.id.in_(row.insight_ids["ids"]))
            ):
                if insight.sent_at is None:
                    insight.sent_at = now
                if insight.status == Status.NEW:
                    add_event(s, insight, Status.SENT, now, f"{row.kind} via {row.channel}")
    attr = {SENT: "sent", RETRY: "retrying", FAILED: "failed", UNKNOWN: "unknown",
            CANCELLED: "cancelled"}[status]
    setattr(report, attr, getattr(report, attr) + 1)


def _is_due(row: OutboxRow, now: datetime, settings: DeliverySettings) -> bool:
    if row.status in (PENDING, RETRY):
        return row.next_attempt_at <= now
    return row.status == SENDING and row.claimed_at is not None and (
        row.claimed_at <= now - settings.lease
    )


def _deliver_one(
    store: InsightStore, outbox_id: int, channels: Mapping[str, Channel], now: datetime,
    directory: Mapping[str, Person], settings: DeliverySettings, report: DeliveryReport,
) -> None:
    with store.db.session() as s:
        row = s.get_one(OutboxRow, outbox_id)
        if not _is_due(row, now, settings):
            return  # another run took it since the list of due rows was read
        channel = channels[row.channel]
        error: str | None
        if row.status == SENDING and not channel.idempotent:
            status, message = UNKNOWN, None
            error = (
                f"interrupted after the claim at {row.claimed_at}; {row.channel} has no "
                "idempotency key, so it is not re-sent (it may or may not have arrived)"
            )
        else:
            person = directory.get(row.recipient)
            message = _render(s, row, person) if person else None
            status = CANCELLED if person else FAILED
            error = None if person else f"{row.recipient} is not in the directory"
        if message is not None:
            attempts = row.attempts + 1
            claimed = s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id, OutboxRow.status == row.status,
                       OutboxRow.attempts == row.attempts)
                .values(status=SENDING, claimed_at=now, attempts=attempts)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return  # another run claimed it first
    if message is None:
        _finish(store, outbox_id, status, now, report, error=error)
        return
    try:
        channel.send(message)
    except Exception as exc:  # any failure of a channel is recorded on the row
        failure = exc if isinstance(exc, DeliveryError) else DeliveryError(
            f"{type(exc).__name__}: {exc}", ambiguous=True
        )
        if failure.permanent or attempts >= settings.max_attempts:
            _finish(store, outbox_id, FAILED, now, report, error=str(failure))
        elif failure.ambiguous and not channel.idempotent:
            _finish(store, outbox_id, UNKNOWN, now, report, error=str(failure))
        else:
            _finish(store, outbox_id, RETRY, now, report, error=str(failure),
                    retry_at=now + backoff(attempts, settings))
        return
    _finish(store, outbox_id, SENT, now, report)


def requeue_unknown(store: InsightStore, now: datetime) -> int:
    """Queue every ``unknown`` row again (a person accepts a possible duplicate); return count."""
    with store.db.session() as s:
        result = s.execute(
            update(OutboxRow).where(OutboxRow.status == UNKNOWN)
            .values(status=RETRY, next_attempt_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
