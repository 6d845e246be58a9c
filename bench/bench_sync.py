"""Sync benchmark: N invoice lines through the local Priority server into a fresh workspace.

The fake Priority REST server of the tests (``tests/connectors/fakes.py``) runs in a child
process with N lines (4 per invoice, Hebrew descriptions, 1 credit note in 20); this process
syncs it with the real connector (Basic auth, keyset pages of ``--page-size`` invoices with
their items expanded, Parquet staging, the importer, the atomic publish) and times:

- the first, full sync (every line fetched, parsed, imported, published);
- an incremental sync with nothing changed (the overlap window re-reads nothing older);
- an incremental sync after 1% of the invoices changed.

    python bench/bench_sync.py [--lines 100000] [--page-size 500]

Prints a Markdown table (the one recorded in docs/benchmarks.md). The timings include the
fake server's own work (filtering, ordering and JSON encoding in Python), on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = """
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
from datetime import datetime, timedelta
from connectors.fakes import PriorityServer, priority_time

lines, port_file = int(sys.argv[2]), sys.argv[3]
server = PriorityServer()
start = datetime(2024, 1, 1, 8, 0)

def invoice(i, updated):
    credit = i % 20 == 19
    return {
        "IVNUM": ("CN" if credit else "IN") + f"{i:08d}", "IVDATE": priority_time(
            start + timedelta(days=i % 700)), "CUSTNAME": f"C{i % 5000:05d}", "CDES": None,
        "AGENTCODE": f"{i % 40:02d}", "DEBIT": "C" if credit else "D", "IVTYPE": "A",
        "FINAL": "Y", "UDATE": priority_time(updated),
        "AINVOICEITEMS_SUBFORM": [
            {"KLINE": k + 1, "PARTNAME": f"P{(i * 7 + k) % 3000:05d}",
             "PDES": "שמן זית כתית 1 ל'", "TQUANT": 1 + (i + k) % 9, "PRICE": 12.5,
             "QPRICE": 12.5 * (1 + (i + k) % 9), "PERCENT": 0} for k in range(4)]}

invoices = [invoice(i, start + timedelta(minutes=i)) for i in range(lines // 4)]
server.entities["AINVOICES"] = invoices
server.entities["CUSTOMERS"] = [
    {"CUSTNAME": f"C{c:05d}", "CUSTDES": f"לקוח {c} בעמ", "AGENTCODE": f"{c % 40:02d}",
     "UDATE": priority_time(start)} for c in range(5000)]
server.entities["LOGPART"] = [
    {"PARTNAME": f"P{p:05d}", "PARTDES": f"פריט {p}", "FAMILYNAME": f"F{p % 30}",
     "UDATE": priority_time(start)} for p in range(3000)]
server.entities["AGENTS"] = [{"AGENTCODE": f"{a:02d}", "AGENTNAME": f"סוכן {a}"}
                             for a in range(40)]
server.start()
with open(port_file, "w") as f:
    f.write(server.base)
for command in sys.stdin:  # "touch N": N invoices change now
    n = int(command.split()[1])
    later = datetime(2026, 1, 1) + timedelta(minutes=1)
    for i in range(0, len(invoices), max(1, len(invoices) // n)):
        changed = invoice(i, later)
        changed["AINVOICEITEMS_SUBFORM"][0]["TQUANT"] += 1
        changed["AINVOICEITEMS_SUBFORM"][0]["QPRICE"] += 12.5
        invoices[i] = changed
    print("ok", flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    from salesradar.connectors.secrets import CredentialSource
    from salesradar.connectors.store import Connection, save_connection
    from salesradar.connectors.sync import sync_connection
    from salesradar.workspace import writing

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        port_file = Path(tmp) / "port"
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(ROOT / "tests"), str(args.lines), str(port_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the local Priority server did not start")
                time.sleep(0.1)
            base = port_file.read_text()
            workspace = Path(tmp) / "ws.duckdb"
            os.environ["BENCH_PRIORITY"] = "apiuser:s3cret-Pa55"
            with writing(workspace) as ws:
                save_connection(ws, Connection(
                    "erp", "priority", base + "/odata/Priority/tabula.ini",
                    CredentialSource("env", "BENCH_PRIORITY"), "demo",
                    options={"page_size": args.page_size}))
            rows = []
            for label, touch in (("full sync", None), ("incremental, nothing changed", None),
                                 ("incremental, 1% of invoices changed", args.lines // 400)):
                if touch:
                    assert server.stdin and server.stdout
                    server.stdin.write(f"touch {touch}\n")
                    server.stdin.flush()
                    server.stdout.readline()
                started = time.perf_counter()
                report = sync_connection(workspace, "erp")
                seconds = time.perf_counter() - started
                inv = {o.object: o for o in report.objects}["AINVOICES"]
                lines = inv.inserted + inv.updated + inv.unchanged
                rows.append((label, inv.fetched, lines, inv.changed, report.requests, seconds))
        finally:
            server.kill()
            server.wait()
    print(f"{args.lines:,} invoice lines, page size {args.page_size}, "
          f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| sync | invoices fetched | lines read | lines changed | requests | seconds | "
          "lines/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, fetched, lines, changed, requests, seconds in rows:
        print(f"| {label} | {fetched:,} | {lines:,} | {changed:,} | {requests:,} | "
              f"{seconds:.2f} | {lines / seconds:,.0f} |")
    print("\n" + json.dumps([dict(zip(("sync", "fetched", "lines", "changed", "requests",
                                       "seconds"), r, strict=True)) for r in rows]))


if __name__ == "__main__":
    main()
