"""generate_insights runs the rules ahead on another thread (its own view of the workspace)
while it words the findings: every rule once, in the order of the kinds, none on the
workspace's own connection; a rule's error reaches the caller, and the thread and its view
are gone after, whether the run succeeded or not."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import duckdb
import pytest

from salesradar.demo import generate
from salesradar.insights import Kind
from salesradar.insights import generate as gen
from salesradar.insights.rules import RULES, Context, Finding, Rule
from salesradar.io.folder import import_folder
from salesradar.models.features import sharing_customer_days
from salesradar.models.scoring import score_workspace
from salesradar.workspace import Workspace


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    folder = tmp_path_factory.mktemp("rules_ahead")
    generate(folder / "data", customers=80, years=2, seed=5)
    with Workspace.open(folder / "ws.duckdb") as ws:
        import_folder(ws, folder / "data")
        score_workspace(ws)
        yield ws


def _rule_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("salesradar-rules")]


def _spied(monkeypatch: pytest.MonkeyPatch, calls: list[tuple[Kind, Context, int]]) -> None:
    """Every rule records its kind, its context and its thread, then runs as before."""
    for kind, rule in list(RULES.items()):
        def run(ctx: Context, kind: Kind = kind, rule: Rule = rule) -> list[Finding]:
            calls.append((kind, ctx, threading.get_ident()))
            return rule.run(ctx)
        monkeypatch.setitem(RULES, kind, Rule(rule.needs, run))


@pytest.mark.parametrize("shared", [False, True])
def test_rules_run_once_each_in_order_on_another_thread(
        scored: Workspace, monkeypatch: pytest.MonkeyPatch, shared: bool) -> None:
    calls: list[tuple[Kind, Context, int]] = []
    _spied(monkeypatch, calls)
    if shared:  # as a refresh runs them
        with sharing_customer_days(scored):
            found = gen.generate_insights(scored)
    else:
        found = gen.generate_insights(scored)
    assert found
    assert [k for k, _, _ in calls] == gen.available_kinds(scored)
    assert len({t for _, _, t in calls}) == 1  # one thread, not this one
    assert calls[0][2] != threading.get_ident()
    assert all(ctx.ws is not scored and ctx.ws.con is not scored.con for _, ctx, _ in calls)
    assert not _rule_threads()
    with pytest.raises(duckdb.ConnectionException):  # the view is closed
        calls[0][1].ws.con.execute("SELECT 1")
    assert scored.con.execute("SELECT 1").fetchone() == (1,)  # the workspace stays open


def test_a_rules_error_reaches_the_caller(scored: Workspace,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[Kind] = []
    kinds = gen.available_kinds(scored)
    failing = kinds[1]

    def fail(ctx: Context) -> list[Finding]:
        raise RuntimeError("rule failed")

    for kind in kinds:
        rule = RULES[kind]
        if kind == failing:
            monkeypatch.setitem(RULES, kind, Rule(rule.needs, fail))
        else:
            def run(ctx: Context, kind: Kind = kind, rule: Rule = rule) -> list[Finding]:
                ran.append(kind)
                return rule.run(ctx)
            monkeypatch.setitem(RULES, kind, Rule(rule.needs, run))
    with pytest.raises(RuntimeError, match="rule failed"):
        gen.generate_insights(scored)
    assert not _rule_threads()
    assert ran[0] == kinds[0]  # the rules before it ran; those after are dropped or finished
    assert scored.con.execute("SELECT 1").fetchone() == (1,)
