"""generate_insights gives, field for field, what the plain composition of its parts gives
(every rule in order, the unowned customers' findings given their selling rep, the words with
``as_of`` and ``now`` made per insight as before), and an evidence that refers to itself is
still refused (its encoder keeps no record of the containers it is in)."""

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
from salesradar.models.features import sharing_customer_days
from salesradar.models.scoring import score_workspace
from salesradar.workspace import Workspace


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A scored demo company, a few customers without a rep (their findings go to the rep
    who sells to them)."""
    folder = tmp_path_factory.mktemp("generate_reference")
    generate(folder / "data", customers=150, years=2, seed=11)
    with Workspace.open(folder / "ws.duckdb") as ws:
        import_folder(ws, folder / "data")
        score_workspace(ws)
        ws.con.execute("UPDATE customers SET rep_id = NULL WHERE customer_id IN "
                       "(SELECT customer_id FROM score_churn ORDER BY churn_probability DESC "
                       "LIMIT 15)")
        yield ws


def _reference(ws: Workspace, settings: RuleSettings) -> list[Insight]:
    """Every rule in order, then the unowned customers' findings given their selling rep,
    then the words (``as_of`` and ``now`` as ISO text, per insight)."""
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
    found = [gen._insight(f, people, {"as_of": day.isoformat(), "now": moment.isoformat()},
                          moment.replace(tzinfo=UTC), settings) for f in findings]
    found.sort(key=lambda i: (-i.priority, -i.value_at_stake, i.dedup_key))
    return found


def _fields(insights: list[Insight]) -> list[tuple[Any, ...]]:
    """Every field of every insight, its JSON evidence text too."""
    return [(i.kind, i.subject, i.owner_rep_id, i.manager_id, i.team, i.detected_at,
             i.priority, i.value_at_stake, i.en, i.he, i.evidence, i.evidence_json)
            for i in insights]


def test_insights_as_their_parts_composed(scored: Workspace) -> None:
    settings = RuleSettings()
    expected = _fields(_reference(scored, settings))
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


def test_evidence_that_refers_to_itself_is_refused() -> None:
    evidence: dict[str, Any] = {"gap_days": 41}
    evidence["again"] = [evidence]
    with pytest.raises(UserInputError, match="plain JSON"):
        Insight(kind=Kind.CHURN_RISK, subject=Subject("customer", "C-1"), owner_rep_id="r1",
                manager_id=None, detected_at=dt.datetime(2026, 11, 24, tzinfo=UTC), priority=5,
                value_at_stake=1.0, en=Texts("a", "b", "c"), he=Texts("א", "ב", "ג"),
                evidence=evidence)
