"""A real Ray cluster of several nodes on this machine's loopback, for the cluster and fleet tests.

The cluster (``ray.cluster_utils.Cluster``: a head and worker nodes on 127.0.0.2) lives in a private Ray
temp folder, so no other Ray on the machine sees it or is seen. Only the nodes started here are stopped."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

LOOPBACK = "127.0.0.2"  # see minelight.cluster.local.LOOPBACK


def private_ray_env(folder: str) -> dict[str, str]:
    """This process's environment for a command that should use the Ray cluster kept in ``folder``."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(RAY_TMPDIR=folder, RAY_USAGE_STATS_ENABLED="0")
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def ray_processes(folder: str) -> list[int]:
    """Processes whose command line names ``folder`` (Ray's own processes of a cluster kept there)."""
    pids = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and folder.encode() in (p / "cmdline").read_bytes():
                pids.append(int(p.name))
        except OSError:
            pass
    return pids


@contextlib.contextmanager
def loopback_cluster(head_cpus: float = 1, worker_cpus: tuple[float, ...] = (1,), extra_env: dict | None = None):
    """``(cluster, its worker nodes, the environment that points Ray at it)``; everything stopped after.
    ``extra_env``: variables for the cluster's processes (e.g. Ray's ``RAY_health_check_*`` settings)."""
    from ray.cluster_utils import Cluster

    folder = tempfile.mkdtemp(prefix="mlray")  # short: Ray's socket paths live under it
    env = private_ray_env(folder)
    extra_env = extra_env or {}
    saved = {k: os.environ.get(k) for k in ("RAY_TMPDIR", "RAY_USAGE_STATS_ENABLED", "RAY_ADDRESS", *extra_env)}
    os.environ.update(RAY_TMPDIR=folder, RAY_USAGE_STATS_ENABLED="0", **extra_env)
    os.environ.pop("RAY_ADDRESS", None)
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": head_cpus, "node_ip_address": LOOPBACK,
                                                          "include_dashboard": False})
    try:
        workers = [nodes.add_node(num_cpus=cpus, node_ip_address=LOOPBACK) for cpus in worker_cpus]
        nodes.wait_for_nodes()
        yield nodes, workers, env
    finally:
        nodes.shutdown()
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        shutil.rmtree(folder, ignore_errors=True)
