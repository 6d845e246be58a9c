"""The rules run on a thread of their own while the findings of those before them are worded:
the insights are those of the rules run one after the other on the caller's connection (the
plain loop this replaced), a rule's error still reaches the caller, and an evidence that refers
to itself is still refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from salesradar.demo import generate
from salesradar.errors import UserInputError
from salesradar.insights import Insight, Kind, Subject, Texts
from salesradar.insights import generate as gen
from salesradar.insights.model import UTC
from salesradar.insights.rules import RULES, Context, Finding, RuleSettings
from salesradar.io.folder import import_folder
from salesradar.models.features import shared_view, sharing_customer_days
from salesradar.models.scoring import score_workspace
from salesradar.workspace import Workspace


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A scored demo company, a few customers without a rep (their findings go to the rep
    who sells to them)."""
    folder = tmp_path_factory.mktemp("rules_thread")
    generate(folder / "data", customers=150, years=2, seed=11)
    with Workspace.open(folder / "ws.duckdb") as ws:
        import_folder(ws, folder / "data")
        score_workspace(ws)
        ws.con.execute("UPDATE customers SET rep_id = NULL WHERE customer_id IN "
                       "(SELECT customer_id FROM score_churn ORDER BY churn_probability DESC "
                       "LIMIT 15)")
        yield ws


def _one_after_the_other(ws: Workspace, settings: RuleSettings) -> list[Insight]:
    """The loop the threaded rules replaced: every rule on the caller's connection, in order,
    then the unowned customers' findings given their selling rep, then the words."""
    day, moment = gen._as_of(ws, None)
    ctx = Context(ws, day, moment, settings)
    findings: list[Finding] = []
    for kind in gen.available_kinds(ws):
        findings.extend(RULES[kind].run(ctx))
    if any(gen._unowned(f) for f in findings):
        selling = gen._selling_reps(ws)
        findings = [replace(f, owner_rep_id=gen._owner(f, selling)) if gen._unowned(f) else f
                    for f in findings]
    people = gen._people(ws)
    judged_at = {"as_of": day.isoformat(), "now": moment.isoformat()}
    found = [gen._insight(f, people, judged_at, moment.replace(tzinfo=UTC), settings)
             for f in findings]
    found.sort(key=lambda i: (-i.priority, -i.value_at_stake, i.dedup_key))
    return found


def _fields(insights: list[Insight]) -> list[tuple[Any, ...]]:
    """Every field of every insight, its JSON evidence text too."""
    return [(i.kind, i.subject, i.owner_rep_id, i.manager_id, i.team, i.detected_at,
             i.priority, i.value_at_stake, i.en, i.he, i.evidence, i.evidence_json)
            for i in insights]


def test_insights_as_the_rules_run_one_after_the_other(scored: Workspace) -> None:
    settings = RuleSettings()
    expected = _fields(_one_after_the_other(scored, settings))
    kinds = {k for k, *_ in expected}
    assert len(expected) > 100 and len(kinds) >= 5  # many kinds and insights compared
    unmastered = _unmastered(scored)
    assert any(owner for _, subject, owner, *_ in expected  # a selling rep given
               if subject.id in unmastered)
    assert _fields(gen.generate_insights(scored, settings=settings)) == expected
    with sharing_customer_days(scored):  # as a refresh runs them: the shared customer-days
        assert _fields(gen.generate_insights(scored, settings=settings)) == expected


def _unmastered(ws: Workspace) -> set[str]:
    return {str(r[0]) for r in ws.con.execute(
        "SELECT customer_id FROM customers WHERE rep_id IS NULL").fetchall()}


def test_a_rules_error_reaches_the_caller(scored: Workspace,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that fails on the rules' thread fails the run with its own error, and the
    thread's view of the workspace is closed."""
    closed: list[bool] = []

    def view(ws: Workspace) -> Any:
        opened = shared_view(ws)
        close = opened.close

        def closing() -> None:
            closed.append(True)
            close()

        opened.close = closing
        return opened

    def fails(ctx: Context) -> list[Finding]:
        raise RuntimeError("rule failed")

    monkeypatch.setattr(gen, "shared_view", view)
    monkeypatch.setitem(RULES, Kind.NO_REPEAT_ORDER, replace(RULES[Kind.NO_REPEAT_ORDER],
                                                             run=fails))
    with pytest.raises(RuntimeError, match="rule failed"):
        gen.generate_insights(scored)
    assert closed == [True]


def test_evidence_that_refers_to_itself_is_refused() -> None:
    evidence: dict[str, Any] = {"gap_days": 41}
    evidence["again"] = [evidence]
    with pytest.raises(UserInputError, match="plain JSON"):
        Insight(kind=Kind.CHURN_RISK, subject=Subject("customer", "C-1"), owner_rep_id="r1",
                manager_id=None, detected_at=dt.datetime(2026, 11, 24, tzinfo=UTC), priority=5,
                value_at_stake=1.0, en=Texts("a", "b", "c"), he=Texts("א", "ב", "ג"),
                evidence=evidence)


def test_settings_thread_through(scored: Workspace) -> None:
    """Thresholds reach the rules on their thread: a churn threshold above every probability
    leaves no churn insight."""
    strict = RuleSettings(churn_min_probability=1.01)
    assert not [i for i in gen.generate_insights(scored, settings=strict)
                if i.kind == Kind.CHURN_RISK]
    assert [i for i in gen.generate_insights(scored) if i.kind == Kind.CHURN_RISK]
