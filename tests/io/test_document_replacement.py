"""Document-level replacement (``replace_documents``): a re-sent document replaces its lines."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from helpers import MAPPINGS
from salesradar.errors import ImportRejected
from salesradar.io import Mapping, import_file, load_mapping
from salesradar.workspace import Workspace

HASHAVSHEVET = MAPPINGS / "hashavshevet_invoice_lines.yaml"
HEADER = 'מספר מסמך,תאריך,מפתח חשבון,מפתח פריט,כמות,סה"כ,סוכן'
# document 5001: 2,400 + 1,235 + 3,137 = 6,772; document 5002: the same line twice, 450 + 450
LINE_A = "5001,03/03/24,3001,MLK-1L,100,2400,07"
LINE_B = "5001,03/03/24,3001,BTR-200,50,1235,07"
LINE_C = "5001,03/03/24,3001,YOG-500,110,3137,07"
TWICE = "5002,04/03/24,3002,MLK-1L,15,450,08"


def export(path: Path, lines: list[str]) -> Path:
    """A Hashavshevet-style export: Windows-1255, Hebrew headers, no line numbers."""
    path.write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode("windows-1255"))
    return path


def revenue_by_document(ws: Workspace) -> dict[str, Decimal]:
    got = ws.con.execute("SELECT invoice_id, sum(net_revenue) FROM invoice_lines GROUP BY 1")
    return dict(got.fetchall())


def counts(report: object) -> tuple[int, int, int, int]:
    return (report.inserted, report.updated, report.unchanged, report.deleted)  # type: ignore[attr-defined]


def test_the_shipped_hashavshevet_mapping_replaces_documents() -> None:
    assert load_mapping(HASHAVSHEVET).replace_documents is True


def test_a_line_deleted_in_the_erp_is_deleted_on_resend(ws: Workspace, tmp_path: Path) -> None:
    first = import_file(ws, "invoice_lines", export(tmp_path / "a.csv",
                        [LINE_A, LINE_B, LINE_C, TWICE, TWICE]), HASHAVSHEVET)
    assert counts(first) == (5, 0, 0, 0)
    assert revenue_by_document(ws) == {"5001": Decimal("6772"), "5002": Decimal("900")}
    # line B (1,235) deleted in Hashavshevet, the file sent again: 6,772 - 1,235 = 5,537
    again = import_file(ws, "invoice_lines", export(tmp_path / "b.csv",
                        [LINE_A, LINE_C, TWICE, TWICE]), HASHAVSHEVET)
    assert counts(again) == (0, 0, 4, 1)
    assert revenue_by_document(ws) == {"5001": Decimal("5537"), "5002": Decimal("900")}
    # the remaining lines are numbered 1, 2 in file order, as a fresh import would number them
    assert ws.con.execute("SELECT sku, line_no FROM invoice_lines WHERE invoice_id = '5001' "
                          "ORDER BY line_no").fetchall() == [("MLK-1L", 1), ("YOG-500", 2)]
    # the same file once more changes nothing
    assert counts(import_file(ws, "invoice_lines", export(tmp_path / "c.csv",
                              [LINE_A, LINE_C, TWICE, TWICE]), HASHAVSHEVET)) == (0, 0, 4, 0)


def test_changed_added_and_absent_documents(ws: Workspace, tmp_path: Path) -> None:
    import_file(ws, "invoice_lines", export(tmp_path / "a.csv",
                [LINE_A, LINE_B, LINE_C, TWICE, TWICE]), HASHAVSHEVET)
    # 5001: line B's amount corrected to 1,300 and a fourth line of 500 added; 5002 not sent
    corrected_b = LINE_B.replace(",1235,", ",1300,")
    extra = "5001,03/03/24,3001,CHS-100,20,500,07"
    report = import_file(ws, "invoice_lines", export(tmp_path / "b.csv",
                         [LINE_A, corrected_b, LINE_C, extra]), HASHAVSHEVET)
    # A and C unchanged; B paired with its correction (updated); the extra line inserted
    assert counts(report) == (1, 1, 2, 0)
    # 2,400 + 1,300 + 3,137 + 500 = 7,337; 5002, absent from the file, keeps its 900
    assert revenue_by_document(ws) == {"5001": Decimal("7337"), "5002": Decimal("900")}


def test_an_exact_repeated_line_is_kept_as_two_lines(ws: Workspace, tmp_path: Path) -> None:
    first = import_file(ws, "invoice_lines", export(tmp_path / "a.csv", [TWICE, TWICE]),
                        HASHAVSHEVET)
    (warning,) = [i for i in first.issues if i.severity == "warning"]
    assert warning.count == 2 and "identical" in warning.reason
    assert revenue_by_document(ws) == {"5002": Decimal("900")}
    # the ERP now sends the line once: one of the two goes (450 left)
    report = import_file(ws, "invoice_lines", export(tmp_path / "b.csv", [TWICE]), HASHAVSHEVET)
    assert counts(report) == (0, 0, 1, 1)
    assert revenue_by_document(ws) == {"5002": Decimal("450")}


def test_a_rejected_resend_leaves_every_line(ws: Workspace, tmp_path: Path) -> None:
    import_file(ws, "invoice_lines", export(tmp_path / "a.csv", [LINE_A, LINE_B, LINE_C]),
                HASHAVSHEVET)
    bad = "5001,31/02/24,3001,YOG-500,110,3137,07"  # no 31 February: file line 3
    with pytest.raises(ImportRejected) as caught:
        import_file(ws, "invoice_lines", export(tmp_path / "b.csv", [LINE_A, bad]),
                    HASHAVSHEVET)
    assert [i.row for i in caught.value.issues if i.row is not None] == [3]
    assert revenue_by_document(ws) == {"5001": Decimal("6772")}


def test_without_the_setting_a_resend_keeps_the_stale_line(ws: Workspace, tmp_path: Path) -> None:
    plain = Mapping(**{**load_mapping(HASHAVSHEVET).__dict__, "replace_documents": False})
    import_file(ws, "invoice_lines", export(tmp_path / "a.csv", [LINE_A, LINE_B, LINE_C]), plain)
    report = import_file(ws, "invoice_lines", export(tmp_path / "b.csv", [LINE_A, LINE_C]),
                         plain)
    # keyed by (document, line number): line 2 now holds C, line 3 stays as it was
    assert (report.updated, report.deleted) == (1, 0)
    assert revenue_by_document(ws) == {"5001": Decimal("2400") + 3137 + 3137}


def test_replace_documents_only_for_document_lines(tmp_path: Path) -> None:
    from salesradar.errors import UserInputError
    from salesradar.io.mapping import parse_mapping

    with pytest.raises(UserInputError, match="replace_documents is for lines of documents"):
        parse_mapping({"table": "customers", "replace_documents": True, "columns": {}}, "m.yaml")
    with pytest.raises(UserInputError, match="must be true or false"):
        parse_mapping({"table": "invoice_lines", "replace_documents": "yes"}, "m.yaml")
