"""Commands for insights and their delivery: insights, insight, deliver, impact."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.options import (
    AppDbOption,
    JsonOption,
    LangOption,
    WorkspaceOption,
    open_app_db,
    parse_date,
)
from salesradar.currency import symbol
from salesradar.errors import UserInputError

ACTIONS = ("ack", "done", "dismiss", "snooze")


@contextmanager
def open_store(workspace: Path | None, app_db: str | None) -> Iterator[Any]:
    from salesradar.insights import InsightStore

    with open_app_db(workspace, app_db) as db:
        yield InsightStore(db)


def _print_insights(rows: list[dict[str, Any]], lang: str) -> None:
    if not rows:
        output.console.print("no insights")
        return
    output.console.print(output.table(
        None, ["id", "kind", "owner", "priority", "at stake", "status", "what"],
        [(r["id"], r["kind"], r.get("owner_rep_id"), r["priority"], output.fmt(r["value_at_stake"]),
          r["status"], r["he" if lang == "he" else "en"]["what"])
         for r in rows]))


def top_insights(store: Any, n: int) -> list[dict[str, Any]]:
    """The ``n`` open insights of highest priority, JSON-ready."""
    return [i.to_dict() for i in store.list_insights(status=["new", "sent", "acknowledged"],
                                                     limit=n)]


def render_insights(rows: list[dict[str, Any]], lang: str) -> None:
    """Each insight with what happened, why and the next step, in ``lang``."""
    key = "he" if lang == "he" else "en"
    for r in rows:
        texts = r[key]
        output.console.print(
            f"[bold]#{r['id']}[/] {r['kind']} · {r.get('owner_rep_id') or '—'} · priority "
            f"{r['priority']} · {symbol()}{output.fmt(r['value_at_stake'])}\n  {texts['what']}\n"
            f"  why: {texts['why']}\n  next: {texts['next_step']}", highlight=False)


def alert_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app."""

    @app.command("run")
    def run_command(
        data: Annotated[Path | None, typer.Option(help="Folder of canonical files to import "
                        "first (invoice_lines.csv, customers.xlsx, ...).")] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Judge as of this date "
                         "(default: the last invoice date).")] = None,
        horizon: Annotated[int, typer.Option(min=7, max=730, help="Days ahead the models "
                           "look.")] = 90,
        deliver: Annotated[bool, typer.Option("--deliver/--no-deliver", help="Send due "
                           "insights through the configured channels.")] = True,
        top: Annotated[int, typer.Option(help="Insights to show.")] = 10,
        full: Annotated[bool, typer.Option("--full", help="Score every model and generate "
                        "every insight anew even when nothing has changed since the last "
                        "run.")] = False,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Refresh everything: import --data (if given), score every model, generate and
        store insights, deliver them; then show the top insights. Safe to run on a schedule:
        unchanged data creates no new insight and sends nothing new. When nothing has changed
        since the last refresh (data, day, settings), its results are kept and only what is due
        is delivered (seconds instead of minutes); the models' scores of unchanged data are
        kept too. --full computes everything again."""
        from salesradar.cli.options import existing_workspace
        from salesradar.pipeline import run

        if deliver:  # before anything is opened or created
            from salesradar.delivery.setup import check_channels

            check_channels()
        # built on a private copy and published atomically: readers never wait (docs/web.md)
        target = existing_workspace(workspace, create=data is not None)
        with open_store(workspace, app_db) as store, output.progress() as bar:
            task = bar.add_task("refreshing", total=None)
            summary = run(target, store, data=data, as_of=parse_date(as_of, "--as-of"),
                          horizon_days=horizon, deliver=deliver, full=full,
                          progress=lambda s: bar.update(task, description=s))
            rows = top_insights(store, top)
        result = {**summary.to_dict(), "top": rows}

        def render() -> None:
            counts = summary.insights
            if summary.unchanged_since is not None:
                output.console.print(
                    "nothing changed since the refresh of "
                    f"{summary.unchanged_since:%d/%m/%Y %H:%M} UTC (data, day, settings): its "
                    "scores, insights and outcomes are kept (--full computes them again)",
                    highlight=False)
            output.console.print(
                f"insights: {counts.get('new', 0)} new, {counts.get('updated', 0)} updated, "
                f"{counts.get('unchanged', 0)} unchanged, {counts.get('resolved', 0)} resolved; "
                f"sent {(summary.delivery or {}).get('sent', 0)}", highlight=False)
            render_insights(rows, lang)

        output.emit(result, as_json, render)

    @app.command()
    def insights(
        rep: Annotated[str | None, typer.Option(help="Only this rep's insights.")] = None,
        kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
        status: Annotated[str | None, typer.Option(help="Only these statuses, "
                          "comma-separated (new, sent, acknowledged, snoozed, ...).")] = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """The insights, highest priority first: what happened, why, next step, value."""
        statuses = [s.strip() for s in status.split(",")] if status else None
        with open_store(workspace, app_db) as store:
            rows = [i.to_dict() for i in store.list_insights(
                status=statuses, owner_rep_id=rep, kind=kind)]
        output.emit(rows, as_json, lambda: _print_insights(rows, lang))

    @app.command()
    def insight(
        insight_id: Annotated[int, typer.Argument(metavar="ID")],
        action: Annotated[str | None, typer.Argument(help="ack, done, dismiss or snooze; "
                          "none to show the insight and its history.")] = None,
        until: Annotated[str | None, typer.Option(help="With snooze: quiet until this "
                         "date (YYYY-MM-DD).")] = None,
        days: Annotated[int | None, typer.Option(min=1, help="With snooze: quiet for this "
                        "many days from today (instead of --until).")] = None,
        note: Annotated[str | None, typer.Option(help="Why (kept in the history).")] = None,
        lang: LangOption = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Show one insight, or move it: ack, done, dismiss, snooze --until DATE or --days N."""
        now = datetime.now(UTC)
        with open_store(workspace, app_db) as store:
            if action is not None:
                if action not in ACTIONS:
                    raise UserInputError(f"action must be one of {', '.join(ACTIONS)}")
                target = {"ack": "acknowledged", "done": "done", "dismiss": "dismissed",
                          "snooze": "snoozed"}[action]
                until_day = parse_date(until, "--until")
                if until_day is not None and days is not None:
                    raise UserInputError("give --until DATE or --days N, not both")
                if days is not None:
                    until_day = now.date() + timedelta(days=days)
                if action == "snooze" and until_day is None:
                    raise UserInputError("snooze needs --until DATE or --days N")
                store.transition(
                    insight_id, target, now, note=note,
                    until=datetime.combine(until_day, time(), UTC) if until_day else None)
            found = store.get(insight_id).to_dict()
            history = [{"at": at, "from": old, "to": new, "note": text}
                       for at, old, new, text in store.history(insight_id)]
        result = {**found, "history": history}
        output.emit(result, as_json, lambda: print_insight(result, lang))

    @app.command()
    def deliver(
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; "
                           "send nothing.")] = False,
        requeue_unknown: Annotated[bool, typer.Option("--requeue-unknown", help="Send again "
                                   "the messages whose outcome is unknown (a crash mid-send "
                                   "on a channel without idempotency).")] = False,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Send due insights through the configured channels (SALESRADAR_SMTP_*, ..._SLACK_*,
        ..._TEAMS_*, ..._WEBHOOK_*, ..._HUBSPOT_*): once each, with retries and backoff."""
        from salesradar.cli.options import open_workspace
        from salesradar.delivery import outbox
        from salesradar.pipeline import deliver_due

        with open_workspace(workspace) as ws, open_store(workspace, app_db) as store:
            if requeue_unknown:
                outbox.requeue_unknown(store, datetime.now(UTC))
            result = deliver_due(ws, store, dry_run=dry_run)
            idle = not result.get("previews") and not any(
                v for k, v in result.items() if k != "previews")
            if idle:  # zeros alone do not say whether anything could have gone out
                result["reason"] = nothing_sent_reason(store)

        def render() -> None:
            output.console.print(output.table(
                "delivery" + (" (dry run)" if dry_run else ""), ["outcome", "messages"],
                [(k, v) for k, v in result.items() if k not in ("previews", "reason")]))
            if result.get("reason"):
                output.console.print(result["reason"], highlight=False, markup=False)

        output.emit(result, as_json, render)

    @app.command()
    def impact(
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Uplift the alerts cause: recovery of delivered vs held-out insights, with a 95%
        confidence interval, overall, per kind and per rep."""
        from salesradar.insights import impact as measure
        from salesradar.insights.impact import reported

        with open_store(workspace, app_db) as store:
            rows = [r.to_dict() for r in measure(store)]
            said = reported(store)  # what reps logged: beside the measurement, not in it

        def render() -> None:
            if said:
                output.console.print(output.table(
                    "reported by reps (not in the uplift)",
                    ["kind", "ordered", "lost", "ordered, data says recovered"],
                    [(r["key"], str(r["ordered"]), str(r["lost"]),
                      f"{r['ordered_confirmed']}/{r['ordered_and_measured']}") for r in said]))
            everything = next((r for r in rows if r["dimension"] == "all"), None)
            if everything is None or not (everything["delivered"]["n"]
                                          or everything["holdout"]["n"]):
                output.console.print(no_impact_reason(everything), highlight=False,
                                     markup=False)
                return
            output.console.print(output.table(
                "recovery: delivered vs holdout", ["slice", "delivered", "holdout", "uplift",
                                                   "95% CI"],
                [(f"{r['dimension']}={r['key']}",
                  f"{r['delivered']['recovered']}/{r['delivered']['n']}",
                  f"{r['holdout']['recovered']}/{r['holdout']['n']}",
                  "—" if r["uplift"] is None else f"{r['uplift']:+.1%}",
                  "—" if r["ci_low"] is None else f"{r['ci_low']:+.1%} … {r['ci_high']:+.1%}")
                 for r in rows]))

        output.emit(rows, as_json, render)


CHANNEL_VARIABLES = ("SALESRADAR_SMTP_HOST", "SALESRADAR_SLACK_WEBHOOK_URL",
                     "SALESRADAR_TEAMS_WEBHOOK_URL", "SALESRADAR_WEBHOOK_URL",
                     "SALESRADAR_HUBSPOT_TOKEN")


def nothing_sent_reason(store: Any) -> str:
    """Why a delivery run queued, sent and previewed nothing."""
    from salesradar.delivery.setup import channels_from_env

    if not channels_from_env():
        return ("nothing to send: no delivery channel is configured (set one of "
                f"{', '.join(CHANNEL_VARIABLES)})")
    open_ = [i for i in store.list_insights() if i.status in ("new", "updated")]
    if not open_:
        return "nothing to send: no insight is waiting (all sent, acknowledged, snoozed or closed)"
    return (f"nothing to send now: {len(open_)} insight(s) are waiting but none is due for a "
            "configured channel (held out, no recipient for their rep, or the daily limit)")


def no_impact_reason(everything: dict[str, Any] | None) -> str:
    """Why the impact has no number yet."""
    if everything is None:
        return "no impact to measure: no insight has been delivered or held out yet"
    pending = everything["delivered"]["pending"] + everything["holdout"]["pending"]
    return (f"no impact to measure yet: no insight has a recorded outcome "
            f"({everything['delivered']['pending']} delivered and "
            f"{everything['holdout']['pending']} held out are pending; an outcome is recorded "
            "once its window after detection has passed, by `salesradar run`)"
            if pending else
            "no impact to measure: no insight has been delivered or held out yet")


def print_insight(row: dict[str, Any], lang: str = "en") -> None:
    """One insight as text: its status, what, why and next step, and its history."""
    texts = row.get(lang) or row.get("en") or {}
    until = f" until {str(row['snoozed_until'])[:10]}" if row.get("snoozed_until") else ""
    lines = [f"#{row['id']} {row['kind']} · {row['subject_type']} {row['subject_id']} · "
             f"{row['status']}{until} · priority {row['priority']}"]
    lines += [f"  {texts[k]}" for k in ("what", "why", "next_step") if texts.get(k)]
    for h in row.get("history", []):
        note = f" ({h['note']})" if h.get("note") else ""
        lines.append(f"  {str(h['at'])[:16]}: {h['from'] or '—'} → {h['to']}{note}")
    for line in lines:
        output.console.print(line, highlight=False, markup=False)
