"""One exception hierarchy for salesradar.

Every error a user can cause derives from :class:`SalesradarError`; each subclass also inherits the
builtin it means (``ValueError``, ``FileNotFoundError``) so callers can catch either. The CLI turns
these into one clear paragraph and exit code 2; anything else is a bug and shows a traceback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Issue:
    """One problem found in an input: where it is, what was there, and why it is wrong.

    ``row`` is the spreadsheet row number (the header is row 1, the first data row is row 2), so a
    user can jump to it in Excel. ``None`` means the issue concerns the whole file or column.
    """

    severity: Severity
    reason: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    hint: str | None = None
    count: int | None = None  # set on a summary issue that stands for this many rows

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.file,
                f"row {self.row}" if self.row is not None else None,
                f"column {self.column}" if self.column else None,
            )
            if part
        )
        text = f"{where}: {self.reason}" if where else self.reason
        if self.count is not None:
            text = f"{text} ({self.count:,} rows)"
        if self.value is not None:
            text += f" (value {self.value!r})"
        if self.hint:
            text += f". {self.hint}"
        return text


class SalesradarError(Exception):
    """Root of every error salesradar raises on purpose."""


class UserInputError(SalesradarError, ValueError):
    """The user's file, mapping or arguments are wrong; the message says how to fix it."""


class WorkspaceError(SalesradarError, RuntimeError):
    """The workspace cannot be opened or is not in the expected state."""


class ImportRejected(UserInputError):
    """An import found errors; nothing was loaded. ``issues`` holds every problem found."""

    def __init__(self, message: str, issues: list[Issue], total_errors: int) -> None:
        super().__init__(message)
        self.issues = issues
        self.total_errors = total_errors
