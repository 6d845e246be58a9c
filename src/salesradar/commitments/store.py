"""Commitments kept in the app database: add (from a mapping or a YAML file), list, get."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from salesradar.app.commitments import CommitmentRow
from salesradar.app.db import AppDB
from salesradar.commitments.model import Commitment, parse_commitment
from salesradar.errors import UserInputError
from salesradar.io.mapping import read_yaml_file


class CommitmentNotFound(UserInputError, LookupError):
    """No commitment has the id asked for."""


def read_yaml(path: Path) -> dict[str, Any]:
    """The commitment mapping of a YAML file (see docs/commitments.md for the fields)."""
    raw = read_yaml_file(path, "commitment file")
    if not isinstance(raw, dict):
        raise UserInputError(f"{path} must hold one mapping of commitment fields")
    return raw


def add_commitment(db: AppDB, raw: dict[str, Any]) -> Commitment:
    """Validate and store a commitment; returns it with its new id."""
    c = parse_commitment({k: v for k, v in raw.items() if k != "id"})
    now = datetime.now(UTC)
    with db.session() as s:
        row = CommitmentRow(name=c.name, vendor=c.vendor, model=c.model, metric=c.metric,
                            start_date=c.start, end_date=c.end, terms=c.to_dict(),
                            created_at=now, updated_at=now)
        s.add(row)
        s.flush()
        ident = row.id
        row.terms = c.with_id(ident).to_dict()
    return c.with_id(ident)


def _from_row(row: CommitmentRow) -> Commitment:
    return parse_commitment({**row.terms, "id": row.id})


def get_commitment(db: AppDB, ident: int) -> Commitment:
    with db.session() as s:
        row = s.get(CommitmentRow, ident)
        if row is None:
            raise CommitmentNotFound(
                f"no commitment {ident}; `salesradar commitment list` shows the ids")
        return _from_row(row)


def list_commitments(db: AppDB) -> list[Commitment]:
    with db.session() as s:
        return [_from_row(r) for r in s.scalars(select(CommitmentRow).order_by(CommitmentRow.id))]
