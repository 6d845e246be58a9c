"""``salesradar mapping suggest``: the mapping salesradar proposes for a file, as YAML to review.

The same detector serves ``salesradar import TABLE FILE --mapping auto``, which imports with the
proposal and prints it (:func:`print_proposal`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from salesradar.cli import output
from salesradar.cli.options import JsonOption
from salesradar.io.detect import MappingProposal, detect_mapping
from salesradar.io.sample import SAMPLE_ROWS
from salesradar.schema import TABLES


def print_proposal(proposal: MappingProposal) -> None:
    """The proposal as people read it: one row per canonical column, then formats and notes."""
    title = f"mapping of {proposal.file} → {proposal.table}" + (
        f" (shipped export {proposal.shipped})" if proposal.shipped else
        f" (saved mapping {proposal.saved})" if proposal.saved else " (proposed)")
    rows = []
    for name, column in proposal.columns.items():
        source = column.source or (f"= {column.formula}" if column.formula else
                                   f"'{column.constant}'")
        rows.append((name, source, f"{column.confidence:.2f}", column.reason
                     + (f"; or {', '.join(column.alternatives)}" if column.alternatives else "")))
    rows += [(name, "[red]not found[/]", "", "required") for name in proposal.missing]
    output.console.print(output.table(title, ["column", "source", "confidence", "reason"], rows,
                                      whole=1))
    f = proposal.formats
    output.console.print(
        f"formats: encoding {f.encoding or '—'}, delimiter {f.delimiter!r}, dates "
        f"{', '.join(f.date_formats) or f.date_order or '—'}, decimal {f.decimal!r}, "
        f"thousands {f.thousands!r}"
        + (f", negatives {', '.join(f.negatives)}" if f.negatives else "")
        + (f", currency {' '.join(f.currencies)}" if f.currencies else ""),
        highlight=False)
    for note in proposal.notes:
        output.console.print(f"[yellow]note[/]: {note}", highlight=False)


def mapping_commands(app: typer.Typer) -> None:
    """Register the ``mapping`` command group on the main app."""
    group = typer.Typer(help="Column mappings: propose one for a file, to review and reuse.",
                        no_args_is_help=True)
    app.add_typer(group, name="mapping")

    @group.command("suggest")
    def suggest(
        table_name: Annotated[str, typer.Argument(metavar="TABLE",
                              help=f"Canonical table: {', '.join(TABLES)}.")],
        file: Annotated[Path, typer.Argument(help="CSV/TXT, Excel or Parquet file; only its "
                        "first rows are read.", show_default=False)],
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the YAML mapping "
                       "here (default: print it).")] = None,
        rows: Annotated[int, typer.Option(help="Rows read to detect formats.", min=1)]
        = SAMPLE_ROWS,
        as_json: JsonOption = False,
    ) -> None:
        """Propose a mapping of FILE onto TABLE from its headers (Hebrew or English) and values.

        A shipped export (Priority, SAP Business One, Hashavshevet, HubSpot) is recognized by its
        headers. Each column shows its source, a confidence and the reason; required columns
        not found are listed. Review the YAML, then `salesradar import TABLE FILE --mapping
        mapping.yaml`.
        """
        proposal = detect_mapping(table_name, file, rows=rows)
        text = proposal.to_yaml()
        if out is not None:
            out.write_text(text, encoding="utf-8")
        data = {**proposal.to_dict(), "yaml": text, "out": str(out) if out else None}

        def render() -> None:
            if out is None:
                sys.stdout.write(text)
                for name in proposal.missing:
                    output.err_console.print(f"[yellow]warning[/]: no column found for {name} "
                                             f"(required in {proposal.table})", highlight=False)
                return
            print_proposal(proposal)
            output.console.print(f"wrote {out}", highlight=False)

        output.emit(data, as_json, render)
