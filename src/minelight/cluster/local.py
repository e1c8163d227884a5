"""Connect to a Ray cluster for one run, or start one on this machine and stop it afterwards.

    with ray_connection("auto") as info:    # a running cluster if there is one, else a local one
        ...
    with ray_connection("10.0.0.5:6379"):    # the head node of a running cluster (ray start --head)
        ...

``auto`` connects to the cluster in ``RAY_ADDRESS``, else to the one last started on this machine with
``ray start`` (:func:`running_cluster`); with none running it starts a cluster on this machine with all its
cores, on loopback only, for this run. Ray is imported here, never at the package's import.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class ClusterError(OSError):
    """No cluster could be reached or started, or its workers could not start; the message says why (an
    OSError, so that the command line reports it as one ``error:`` line)."""


# A cluster started for one run listens on loopback only. Ray replaces 127.0.0.1 (and "localhost") by the
# machine's network address wherever it meets it, so the run-only cluster takes another loopback address
# (on Linux all of 127.0.0.0/8 is loopback; Ray clusters run on Linux only).
LOOPBACK = "127.0.0.2"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def node_of_this_process() -> dict:
    """``{"id", "address", "host"}`` of the Ray node this process runs on (its id in hex, its IP address, the
    machine's host name); for code running in a Ray worker."""
    import ray

    return {"id": ray.get_runtime_context().get_node_id(), "address": ray.util.get_node_ip_address(),
            "host": socket.gethostname()}


def pinned_to(node_id: str, soft: bool = False):
    """The scheduling strategy that runs an actor on node ``node_id`` (hex): there and nowhere else, or with
    ``soft``, there while the node lives and elsewhere after (a restarted actor finds a place)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id=node_id, soft=soft)


def running_cluster() -> str | None:
    """The address ``--ray auto`` connects to: ``RAY_ADDRESS`` if set, else the cluster last started on this
    machine with ``ray start`` (Ray records it in ``ray/ray_current_cluster`` under ``RAY_TMPDIR``, else
    ``TMPDIR``, else ``/tmp``; ``ray stop`` removes it), else None: no cluster is running. (Ray's own
    ``address="auto"`` also takes any Ray process it finds running on the machine, which on a shared
    machine may be someone else's.)"""
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    temp = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
    try:
        return (Path(temp) / "ray" / "ray_current_cluster").read_text().strip() or None
    except OSError:
        return None


def _host_port(address: str) -> tuple[str, int | None]:
    """``host:port``, ``[v6]:port`` or ``ray://host:port`` -> (host, port); a port that is not a number: None."""
    rest = address.split("://", 1)[-1]
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    return host.strip("[]"), int(port) if port.isdigit() else None


def _check_answers(address: str, host: str, port: int | None, timeout_s: float = 5.0) -> None:
    """Fail fast when nothing listens at the address (Ray itself keeps retrying for minutes)."""
    if port is None:
        raise ClusterError(f"{address}: give the head node's address as HOST:PORT (e.g. 10.0.0.5:6379), or auto")
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as err:
        raise ClusterError(f"cannot connect to the Ray cluster at {address}: nothing answers there "
                           f"({err.strerror or err}); is it running (ray start --head)?") from None


@contextlib.contextmanager
def ray_connection(address: str = "auto") -> Iterator[Connection]:
    """Connect this process to the cluster at ``address`` (``auto``: see the module's docstring) and
    disconnect afterwards; a cluster this started is stopped with it, whatever way the run ends."""
    ray = import_ray()
    if ray.is_initialized():
        raise ClusterError("this process is already connected to a Ray cluster")
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    target = running_cluster() if address == "auto" else address
    started = target is None
    try:
        if started:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a run-only cluster sends no usage reports
            ray.init(address="local", include_dashboard=False, _node_ip_address=LOOPBACK, **quiet)
        else:
            host, port = _host_port(target)
            _check_answers(target, host, port)
            if _is_loopback(host):  # a cluster on this machine's loopback: this driver joins it there
                quiet["_node_ip_address"] = host
            ray.init(address=target, **quiet)
    except (ConnectionError, ValueError, RuntimeError) as err:  # no cluster there, a malformed address, ...
        ray.shutdown()  # whatever part of it started
        where = "on this machine" if started else f"at {target}"
        raise ClusterError(f"cannot {'start' if started else 'connect to'} the Ray cluster {where}: "
                           f"{str(err).strip().splitlines()[0]}") from None
    try:
        nodes = alive_nodes(ray)
        cpus = int(sum(n["Resources"].get("CPU", 0) for n in nodes))
        yield Connection("local" if started else address, started, len(nodes), cpus)
    finally:
        ray.shutdown()
