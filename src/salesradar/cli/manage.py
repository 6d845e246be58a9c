"""Commands for account management and sales performance: account, plan, forecast, funnel,
commissions, scorecard. Each prints a table (or text) for people and JSON with ``--json``.

The account commands live in :mod:`salesradar.cli.accounts`, the performance commands in
:mod:`salesradar.cli.performance`, what they share in :mod:`salesradar.cli.manage_output`.
"""

from __future__ import annotations

import typer

from salesradar.cli.accounts import account_commands
from salesradar.cli.performance import performance_commands


def manage_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app."""
    account_commands(app)
    performance_commands(app)
