"""Uploaded files for the browser's "data in, no YAML": stored safely, sniffed, mapped, saved.

An upload is streamed (never held in memory) to a folder the server names, beside the
workspace: ``<workspace>.uploads/<32 hex digits>/``. The file inside is named by the server
too (``invoice_lines.csv``, ``customers.xlsx``): the client's file name is kept only as text
to show. The size limit (``SALESRADAR_UPLOAD_LIMIT``, default 1 GB; ``500M``, ``2G`` or bytes)
is enforced while the bytes arrive; the type is decided by the content (Excel and ODS are ZIP
or OLE files, Parquet starts with ``PAR1``, text has no NUL bytes) and must agree with the
name's extension. Excel is read by the importer's own reader (calamine: no macros, no
external links, no XML entity expansion).

A mapping confirmed in the browser is saved under a name (the source: "Priority invoices") in
the app database; :func:`saved_mappings` hands them to
:func:`salesradar.io.detect.detect_mapping` (``saved=``), which recognizes the next file of
that source by its headers.

>>> sniff_kind(b"PAR1...."), sniff_kind(b"a,b\\n1,2\\n"), sniff_kind(b"\\x00\\x01")
('parquet', 'csv', None)
>>> parse_size("500M"), parse_size("1G") == DEFAULT_UPLOAD_LIMIT
(524288000, True)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.db import AppDB
from salesradar.app.models import Base
from salesradar.errors import SalesradarError, UserInputError
from salesradar.schema import TABLES

if TYPE_CHECKING:  # the importer and the engine load when a mapping or an upload is used
    from salesradar.io.mapping import Mapping

__all__ = [
    "DEFAULT_UPLOAD_LIMIT", "SavedMapping", "Upload", "UploadTooLarge", "delete_mapping",
    "list_mappings", "load_upload", "new_upload", "parse_size", "receive_form",
    "save_mapping", "saved_mappings", "sniff_kind", "upload_limit",
]

LIMIT_ENV = "SALESRADAR_UPLOAD_LIMIT"
DEFAULT_UPLOAD_LIMIT = 1 << 30  # 1 GB
KEEP_SECONDS = 24 * 3600  # uploads never imported are deleted a day later
UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
MAX_FIELDS, MAX_FIELD_CHARS = 200, 10_000
# the extensions a client may name, by the kind of content they promise
CLAIMS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".psv": "csv", ".xlsx": "excel",
          ".xlsm": "excel", ".xls": "excel", ".ods": "excel", ".parquet": "parquet",
          ".pq": "parquet", ".gz": "gz"}
SERVER_SUFFIX = {"csv": ".csv", "xlsx": ".xlsx", "xls": ".xls", "ods": ".ods",
                 "parquet": ".parquet", "gz": ".csv.gz"}


class UploadTooLarge(SalesradarError):
    """The upload is larger than the limit (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the upload limit of {size_text(limit)}; "
                         f"split it, or raise the limit with {LIMIT_ENV}")
        self.limit = limit


class SavedMapping(Base):
    """A mapping confirmed in the browser, kept for the next upload of its source (0009)."""

    __tablename__ = "saved_mappings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(60))
    yaml: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(100))


# -- sizes and kinds ---------------------------------------------------------------------------
def parse_size(text: str) -> int:
    """Bytes from ``1073741824``, ``500M``, ``1G``, ``1GB`` (binary units)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not found:
        raise UserInputError(f"{LIMIT_ENV}: not a size: {text!r} (write 500M, 1G or bytes)")
    power = " kmgt".index(found.group(2) or " ")
    return int(float(found.group(1)) * 1024 ** power)


def upload_limit() -> int:
    """The largest upload accepted, in bytes (``SALESRADAR_UPLOAD_LIMIT``, else 1 GB)."""
    text = os.environ.get(LIMIT_ENV)
    return parse_size(text) if text else DEFAULT_UPLOAD_LIMIT


def size_text(size: int) -> str:
    """``1 GB``, ``500 MB``, ``2.5 KB``."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:g} {unit}" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} TB"  # pragma: no cover - unreachable


def sniff_kind(head: bytes) -> str | None:
    """The content's kind from its first bytes: ``xlsx``, ``ods``, ``xls``, ``parquet``,
    ``gz``, ``csv`` (text), or None for any other binary."""
    if head.startswith(b"PK\x03\x04"):
        return "ods" if b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head[:120] \
            else "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x1f\x8b"):
        return "gz"
    return None if b"\x00" in head else "csv"


def _group(kind: str) -> str:
    return "excel" if kind in ("xlsx", "xls", "ods") else kind


# -- receiving a multipart form ------------------------------------------------------------------
@dataclass
class Received:
    """A multipart form read off the wire: its text fields, the client's file name and size."""

    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    size: int = 0


async def receive_form(chunks: AsyncIterator[bytes], content_type: str, target: Path, *,
                       limit: int, before_file: Callable[[dict[str, str]], None] | None = None,
                       file_field: str = "file") -> Received:
    """Read a ``multipart/form-data`` body chunk by chunk: text fields into memory (bounded),
    the one file part straight to ``target`` (at most ``limit`` bytes, else
    :class:`UploadTooLarge`). ``before_file(fields)`` runs when the file part starts, with the
    fields sent before it (the CSRF token, the table), and may refuse it by raising."""
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UserInputError("send the file as multipart/form-data (a form with a file field)")
    got = Received()
    state: dict[str, Any] = {"headers": {}, "name": None, "value": bytearray(), "out": None,
                             "field": b"", "hvalue": b""}

    def on_part_begin() -> None:
        state.update(headers={}, name=None, value=bytearray(), out=None)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["hvalue"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].decode("latin-1").lower()] = state["hvalue"]
        state["field"], state["hvalue"] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state["headers"].get("content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name
        if b"filename" in disposition:
            if name != file_field or state["out"] is not None or got.file_name is not None:
                raise UserInputError(f"send one file, in the field {file_field!r}")
            if before_file is not None:
                before_file(got.fields)
            got.file_name = disposition[b"filename"].decode("utf-8", "replace")[:300]
            state["out"] = target.open("xb")
        elif len(got.fields) >= MAX_FIELDS:
            raise UserInputError("too many form fields")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        out = state["out"]
        if out is not None:
            got.size += end - start
            if got.size > limit:
                raise UploadTooLarge(limit)
            out.write(data[start:end])
        else:
            state["value"] += data[start:end]
            if len(state["value"]) > MAX_FIELD_CHARS * 4:
                raise UserInputError(f"the form field {state['name']!r} is too long")

    def on_part_end() -> None:
        if state["out"] is not None:
            state["out"].close()
            state["out"] = None
        elif state["name"]:
            got.fields[state["name"]] = bytes(state["value"]).decode("utf-8", "replace")

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data,
        "on_part_end": on_part_end, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished})
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:  # a malformed body
        raise UserInputError(f"the form could not be read: {exc}") from None
    finally:
        if state["out"] is not None:
            state["out"].close()
    return got


# -- stored uploads --------------------------------------------------------------------------
def uploads_root(workspace: Path) -> Path:
    """Where the uploads of ``workspace`` are kept: ``<workspace>.uploads`` beside it."""
    return workspace.with_name(workspace.name + ".uploads")


@dataclass
class Upload:
    """One uploaded file, its folder and what is known about it (``meta.json``)."""

    id: str
    folder: Path
    meta: dict[str, Any]

    @property
    def table(self) -> str:
        return str(self.meta["table"])

    @property
    def name(self) -> str:
        """The client's file name, for display only."""
        return str(self.meta.get("original_name") or self.path.name)

    @property
    def path(self) -> Path:
        return self.folder / str(self.meta["file"])

    @property
    def incoming(self) -> Path:
        return self.folder / "incoming"

    @property
    def corrections(self) -> dict[str, str | None]:
        found: dict[str, str | None] = self.meta.get("corrections") or {}
        return found

    def save_meta(self) -> None:
        tmp = self.folder / "meta.json.tmp"
        tmp.write_text(json.dumps(self.meta, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.folder / "meta.json")

    def accept(self, table_name: str, client_name: str | None, size: int, by: str) -> None:
        """Check what arrived in :attr:`incoming` (kind by content, agreeing with the client's
        extension) and keep it under the server's name; a :class:`UserInputError` otherwise."""
        check_table(table_name)
        claimed = Path(client_name or "").suffix.lower()
        if claimed not in CLAIMS:
            raise UserInputError(
                f"{client_name or 'the file'}: salesradar reads CSV or TXT (any delimiter), "
                "Excel (.xlsx, .xls, .ods) and Parquet files")
        if size == 0:
            raise UserInputError(f"{client_name}: the file is empty")
        with self.incoming.open("rb") as f:
            head = f.read(65536)
        kind = sniff_kind(head)
        if kind is None or _group(kind) != CLAIMS[claimed]:
            what = {"csv": "text", "excel": "a spreadsheet", "parquet": "Parquet",
                    "gz": "gzip"}.get(_group(kind) if kind else "", "not a file salesradar reads")
            raise UserInputError(f"{client_name}: the content is {what}, not what its name "
                                 f"({claimed}) says")
        suffix = ".xlsm" if kind == "xlsx" and claimed == ".xlsm" else SERVER_SUFFIX[kind]
        name = f"{table_name}{suffix}"
        self.incoming.replace(self.folder / name)
        self.meta.update(table=table_name, file=name, original_name=client_name, size=size,
                         kind=kind, uploaded_by=by, uploaded_at=datetime.now(UTC).isoformat(),
                         corrections={}, save_as=_source_name(client_name or name))
        self.save_meta()

    def proposal(self, db: AppDB) -> Any:
        """The detector's proposal for this file (saved mappings recognized) with the
        corrections made in the form applied."""
        from salesradar.io.detect import detect_mapping

        proposal = detect_mapping(self.table, self.path, saved=saved_mappings(db, self.table))
        return proposal.with_sources(self.corrections) if self.corrections else proposal

    def delete(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _source_name(client_name: str) -> str:
    """A default name for the source: the file's name without extension and dates/numbers."""
    stem = Path(client_name).name.split(".")[0]
    words = re.sub(r"[\d_\-\s]+", " ", stem).strip()
    return (words or stem or "upload")[:100]


def check_table(name: str) -> None:
    if name not in TABLES:
        raise UserInputError(f"unknown table {name!r}; one of: {', '.join(TABLES)}")


def new_upload(workspace: Path) -> Upload:
    """A new, empty upload folder with a server-chosen id (old unimported uploads pruned)."""
    root = uploads_root(workspace)
    root.mkdir(parents=True, exist_ok=True)
    prune_uploads(workspace)
    upload_id = secrets.token_hex(16)
    folder = root / upload_id
    folder.mkdir(mode=0o700)
    return Upload(upload_id, folder, {"file": "incoming"})


def load_upload(workspace: Path, upload_id: str) -> Upload:
    """The upload ``upload_id``; :class:`NotVisible` (404) when there is none."""
    from salesradar.access import NotVisible

    if not UPLOAD_ID.fullmatch(upload_id or ""):
        raise NotVisible(f"no upload {upload_id!r}")
    folder = uploads_root(workspace) / upload_id
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotVisible(f"no upload {upload_id!r} (uploads are kept for a day)") from None
    return Upload(upload_id, folder, meta)


def prune_uploads(workspace: Path, keep_seconds: float = KEEP_SECONDS) -> None:
    """Delete upload folders older than ``keep_seconds``."""
    root = uploads_root(workspace)
    now = time.time()
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            if folder.is_dir() and now - folder.stat().st_mtime > keep_seconds:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


# -- saved mappings ----------------------------------------------------------------------------
def save_mapping(db: AppDB, name: str, mapping: Mapping, *, by: str | None = None) -> None:
    """Keep ``mapping`` under ``name`` (replacing one of that name)."""
    from salesradar.io.mapping_file import mapping_to_yaml

    name = name.strip()[:100]
    if not name:
        raise UserInputError("give the source a name to save its mapping under")
    with db.session() as s:
        s.merge(SavedMapping(name=name, table_name=mapping.table, yaml=mapping_to_yaml(mapping),
                             updated_at=datetime.now(UTC), updated_by=by))


def saved_mappings(db: AppDB, table_name: str | None = None) -> dict[str, Mapping]:
    """The saved mappings by name (of ``table_name`` when given); unreadable ones skipped."""
    from salesradar.io.mapping import parse_mapping

    out: dict[str, Mapping] = {}
    for row in list_mappings(db, table_name):
        try:
            out[row["name"]] = parse_mapping(yaml.safe_load(row["yaml"]), row["name"],
                                             row["table"])
        except (UserInputError, yaml.YAMLError):
            continue
    return out


def list_mappings(db: AppDB, table_name: str | None = None) -> list[dict[str, Any]]:
    query = select(SavedMapping).order_by(SavedMapping.table_name, SavedMapping.name)
    if table_name:
        query = query.where(SavedMapping.table_name == table_name)
    with db.session() as s:
        return [{"name": r.name, "table": r.table_name, "yaml": r.yaml,
                 "updated_at": r.updated_at.isoformat(), "updated_by": r.updated_by}
                for r in s.scalars(query)]


def delete_mapping(db: AppDB, name: str) -> bool:
    with db.session() as s:
        row = s.get(SavedMapping, name)
        if row is None:
            return False
        s.delete(row)
        return True
