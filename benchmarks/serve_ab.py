"""`mktai serve` from two source trees, interleaved on one store: the before/after table.

    .venv/bin/python benchmarks/serve_ab.py --a /tmp/base [--b .] [--seconds 8] [--requests 2000]
        [--conns 1,4,16]

A: e.g. `git archive main | tar -x -C /tmp/base`; B: this tree by default. Trains the
benchmark's propensity model (benchmarks/serve.py: gbm on the bank sample, seed 0) into a
temporary store, starts `mktai serve` from each tree (server CPU 1, client CPU 0 where
possible), and alternates short slices of single-row predict requests between them
(serve.interleaved), so a shared machine's load hits both alike: requests/s, requests per
server CPU-second and p50/p95/p99 latency per connection count, with the B/A ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serve as bench  # noqa: E402 - benchmarks/serve.py beside this file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", required=True, help="the source tree to compare against")
    parser.add_argument("--b", default=str(bench.ROOT), help="the source tree measured")
    parser.add_argument("--seconds", type=float, default=8.0, help="time budget per cell")
    parser.add_argument("--requests", type=int, default=2000, help="request budget per cell")
    parser.add_argument("--conns", default="1,4,16", help="connection counts")
    args = parser.parse_args()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {bench.CLIENT_CPU})
    from mktai.api import train

    store = str(Path(tempfile.mkdtemp(prefix="mktai-bench-ab-")) / "store")
    train("propensity", bench.BANK, name="response", target="y", store=store, cv=0, seed=0)
    servers = {}
    for label, root in (("A", args.a), ("B", args.b)):
        bench.ROOT = Path(root).resolve()  # env() puts this tree first on PYTHONPATH
        servers[label] = bench.Server("cli", store)
    try:
        for srv in servers.values():
            srv.wait("/readyz")
        path, payload = "/v1/models/response/predict", bench.row_payload()
        for srv in servers.values():
            bench.measure(srv.url, path, payload, 4, 40, 5)  # warm-up
        print(f"A = {args.a}, B = {args.b} {bench.loadavg()}\n")
        print("| conns | A req/s | B req/s | B/A | A req/CPU-s | B req/CPU-s | B/A "
              "| A p50 / p95 / p99 ms | B p50 / p95 / p99 ms |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|")
        for conns in [int(c) for c in args.conns.split(",")]:
            routes = {label: (srv, path, payload) for label, srv in servers.items()}
            cell = bench.interleaved(routes, conns, args.requests, args.seconds)
            a, b = cell["A"], cell["B"]
            print(f"| {conns} | {a['rps']:.1f} | {b['rps']:.1f} | {b['rps'] / a['rps']:.2f}x "
                  f"| {a['per_cpu_s']:.1f} | {b['per_cpu_s']:.1f} "
                  f"| {b['per_cpu_s'] / a['per_cpu_s']:.2f}x "
                  f"| {a['p50']:.1f} / {a['p95']:.1f} / {a['p99']:.1f} "
                  f"| {b['p50']:.1f} / {b['p95']:.1f} / {b['p99']:.1f} |")  # fmt: skip
    finally:
        for srv in servers.values():
            srv.stop()
    print(f"\nerrors: {bench.ERRORS['count']} of {bench.ERRORS['requests']:,} requests "
          f"{bench.loadavg()}")  # fmt: skip


if __name__ == "__main__":
    main()
