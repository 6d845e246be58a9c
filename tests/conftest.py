"""Shared fixtures (a fresh workspace per test), and the test groups of a parallel run (xdist)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from salesradar.workspace import Workspace

# the served demo company of the API and page tests (fixtures `site`, `_close_clients`)
pytest_plugins = ("web.web_helpers",)

TESTS = Path(__file__).parent


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """A new workspace file in the test's temporary folder."""
    with Workspace.open(tmp_path / "ws.duckdb") as workspace:
        yield workspace


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks into the test ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make test``: ``-n`` workers, ``--dist loadgroup``), the tests that
    share a fixture costing seconds to build run on one worker, so it is built once, not once per
    worker; every other test goes to whichever worker is free."""
    for item in items:
        group = xdist_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def xdist_group(item: pytest.Item) -> str | None:
    """The group of tests ``item`` runs with under xdist, or None to run anywhere.

    * ``e2e``: the served demo company, its second server and Chromium (tests/e2e/conftest.py);
    * ``engine-postgres``, ``engine-spark``: the KPI tests on the PostgreSQL server and on the
      Spark session (tests/metrics/conftest.py; DuckDB is in memory and runs anywhere);
    * ``site``: the served demo company of the API and page tests (tests/web/web_helpers.py);
    * ``cli-demo``, ``reports-demo``: the demo workspaces of tests/cli and tests/reports;
    * a test module's own path, for the modules with module-scoped fixtures.
    """
    try:
        where = item.path.relative_to(TESTS).parts
    except ValueError:
        return None
    if where[0] == "e2e":
        return "e2e"
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    engine = params.get("backend", params.get("scratch"))
    if engine in ("postgres", "spark"):
        return f"engine-{engine}"
    names = set(getattr(item, "fixturenames", ()))
    if names & {"pg_server", "postgres_backend"}:
        return "engine-postgres"
    if "spark_backend" in names:
        return "engine-spark"
    if "site" in names:
        return "site"
    if where[0] == "cli" and "workspace" in names:
        return "cli-demo"
    if where[0] == "reports" and "demo" in names:
        return "reports-demo"
    info = getattr(item, "_fixtureinfo", None)
    if info is not None and any(defs and defs[-1].scope == "module"
                                for defs in info.name2fixturedefs.values()):
        return "/".join(("tests", *where))
    return None


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistGroups(), "salesradar-xdist-groups")


class XdistGroups:
    """``--dist loadgroup`` that works on pytest 9.2.

    pytest-xdist 3.8 tells its scheduler a test's group by appending ``@group`` to the test's id,
    which pytest 9.2's structured test ids no longer take: the groups are silently lost and every
    test goes anywhere (pytest-dev/pytest-xdist#1386). Here each worker writes the groups of the
    tests it collected to a folder the controller gives it, and the controller's scheduler (xdist's
    own, by scope) reads them there. Without -n: nothing happens.
    """

    KEY = "salesradar_xdist_groups"

    def __init__(self) -> None:
        self.folder: Path | None = None

    def _folder(self) -> Path:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="salesradar-xdist-"))
        return self.folder

    # the controller
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getvalue("dist") != "loadgroup":
            return None
        return GroupScheduling(config, log, self._folder())

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[self.KEY] = str(self._folder())

    def pytest_unconfigure(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    # a worker: before it sends its collection (the test ids) to the controller
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        workerinput = getattr(session.config, "workerinput", {})
        if self.KEY not in workerinput:
            return
        groups = {}
        for item in session.items:
            names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                            for m in item.iter_markers("xdist_group")})
            if names:
                groups[item.nodeid] = "group:" + "_".join(names)
        target = Path(workerinput[self.KEY]) / f"{workerinput['workerid']}.json"
        partial = target.with_suffix(".partial")
        partial.write_text(json.dumps(groups))
        partial.replace(target)


class GroupScheduling(LoadScopeScheduling):
    """xdist's scheduling by scope, a scope being a test's group (or the test alone): a group
    runs on one worker; the groups with the most tests are handed out first."""

    def __init__(self, config: pytest.Config, log: Any, folder: Path) -> None:
        super().__init__(config, log)
        self.folder = folder
        self.groups: dict[str, str] = {}

    def schedule(self) -> None:
        if self.collection is None:  # the first call: every worker has collected
            for path in sorted(self.folder.glob("*.json")):
                self.groups.update(json.loads(path.read_text()))
        super().schedule()

    def _split_scope(self, nodeid: str) -> str:
        return self.groups.get(nodeid, nodeid)
