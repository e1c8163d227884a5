"""Connect to a Ray cluster for one run, or start one on this machine and stop it afterwards.

    with ray_connection("auto") as info:    # a running cluster if there is one, else a local one
        ...
    with ray_connection("10.0.0.5:6379"):    # the head node of a running cluster (ray start --head)
        ...

``auto`` follows Ray's own rule for finding a running cluster (the ``RAY_ADDRESS`` variable, else the
latest cluster started on this machine with ``ray start``); with none running it starts a cluster on this
machine with all its cores, bound to 127.0.0.1, for this run only. Ray is imported here, never at the
package's import.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass


class ClusterError(OSError):
    """No cluster could be reached or started, or its workers could not start; the message says why (an
    OSError, so that the command line reports it as one ``error:`` line)."""


@dataclass
class Connection:
    address: str  # what the driver connected to ("local" for a cluster started for this run)
    started: bool  # True: this run started the cluster and stops it at the end
    nodes: int  # alive nodes when connected
    cpus: int  # their CPUs together


def import_ray():
    """Ray, or a clear error naming the extra that installs it."""
    try:
        import ray
    except ModuleNotFoundError as err:
        if err.name != "ray":
            raise
        raise ClusterError('--ray needs Ray, part of the [cluster] extra: pip install -e ".[cluster]"') from None
    return ray


def alive_nodes(ray) -> list[dict]:
    """The alive nodes of the connected cluster, as ``ray.nodes()`` describes them."""
    return [n for n in ray.nodes() if n.get("Alive")]


@contextlib.contextmanager
def ray_connection(address: str = "auto") -> Iterator[Connection]:
    """Connect this process to the cluster at ``address`` (``auto``: see the module's docstring) and
    disconnect afterwards; a cluster this started is stopped with it, whatever way the run ends."""
    ray = import_ray()
    if ray.is_initialized():
        raise ClusterError("this process is already connected to a Ray cluster")
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    started = False
    try:
        try:
            ray.init(address=address, **quiet)
        except ConnectionError as err:
            if address != "auto":
                raise ClusterError(f"cannot connect to the Ray cluster at {address}: {err}") from None
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a run-only cluster sends no usage reports
            ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
            started = True
    except ClusterError:
        raise
    except (ValueError, RuntimeError) as err:  # e.g. a malformed address
        raise ClusterError(f"cannot connect to the Ray cluster at {address}: {str(err).splitlines()[0]}") from None
    try:
        nodes = alive_nodes(ray)
        cpus = int(sum(n["Resources"].get("CPU", 0) for n in nodes))
        yield Connection("local" if started else address, started, len(nodes), cpus)
    finally:
        ray.shutdown()
