"""``joulebench fleet --address auto``: the machines of a Ray cluster, as joulebench sees them.

One row per machine: whether it is alive, its ``joulebench_slot`` (exactly one to take jobs),
its labels (what ``[executor] targets`` select on) and the meters it can use, which each
machine probes itself (a task pinned to it), since a meter is a property of the hardware.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

import pandas as pd

from joulebench.cli.format import format_frame
from joulebench.devices.registry import probe_all
from joulebench.harness.executors.ray_executor import SLOT, connect, import_ray, nodes

PROBE_TIMEOUT_S = 60.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "fleet", help="list a Ray cluster's machines: slots, labels and the meters each has"
    )
    parser.add_argument("--address", default="auto", help="the Ray cluster (default auto)")
    parser.add_argument("--json", action="store_true", help="print the machines as JSON")
    parser.set_defaults(run=run)


def meters_here() -> list[dict[str, Any]]:
    """This machine's meters (run on each machine of the fleet)."""
    return [asdict(row) for row in probe_all()]


def run(args: argparse.Namespace) -> int:
    """Probe every live machine's meters and print the table."""
    ray = import_ray()
    connect(ray, args.address)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    cluster = nodes(ray)
    probe = ray.remote(meters_here)
    refs = {
        node.node_id: probe.options(
            num_cpus=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
        ).remote()
        for node in cluster
        if node.alive
    }
    ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=PROBE_TIMEOUT_S)
    answers: dict[str, Any] = {}
    for node_id, ref in refs.items():
        if ref in ready:
            try:
                answers[node_id] = ray.get(ref)
            except Exception as exc:  # the probe itself failed on that machine
                answers[node_id] = f"probe failed: {str(exc).splitlines()[0]}"
        else:
            answers[node_id] = f"no answer in {PROBE_TIMEOUT_S:.0f} s"
    rows = []
    for node in cluster:
        meters = answers.get(node.node_id, "dead")
        rows.append(
            {
                "machine": node.host,
                "alive": node.alive,
                "slots": node.slots,
                "labels": node.labels,
                "meters": meters,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    table = [
        {
            "machine": r["machine"],
            "alive": "yes" if r["alive"] else "no",
            SLOT: f"{r['slots']:g}" + ("" if r["slots"] == 1 else " (needs exactly 1)"),
            "labels": ", ".join(f"{k}={v}" for k, v in r["labels"].items()) or "—",
            "meters": ", ".join(m["name"] for m in r["meters"] if m["available"])
            if isinstance(r["meters"], list)
            else r["meters"],
        }
        for r in rows
    ]
    print(format_frame(pd.DataFrame(table), "Machines of the fleet"))
    return 0
