"""`salesradar report --out`: the extension decides the format, a mismatch is refused first."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.conftest import run
from salesradar.cli.options import report_format
from salesradar.errors import UserInputError


@pytest.mark.parametrize(("fmt", "out", "expected"), [
    (None, None, "pdf"),
    ("html", None, "html"),
    (None, Path("x.html"), "html"),
    (None, Path("x.HTM"), "html"),
    (None, Path("review.pdf"), "pdf"),
    ("html", Path("x.html"), "html"),
])
def test_the_format_follows_the_extension(fmt: str | None, out: Path | None,
                                          expected: str) -> None:
    assert report_format(fmt, out) == expected


def test_a_mismatch_or_an_unknown_extension_is_refused() -> None:
    with pytest.raises(UserInputError, match=r"x\.html names a HTML file but --format is pdf"):
        report_format("pdf", Path("x.html"))
    with pytest.raises(UserInputError, match=r"must end in \.pdf or \.html"):
        report_format(None, Path("x.docx"))
    with pytest.raises(UserInputError, match="--format must be pdf or html"):
        report_format("png", None)


def test_the_cli_refuses_a_mismatch_before_opening_anything(tmp_path: Path) -> None:
    result = run("report", "ceo", "--format", "pdf", "--out", "x.html",
                 "-w", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert result.returncode == 2 and "names a HTML file" in result.stderr
    assert not (tmp_path / "x.html").exists()
