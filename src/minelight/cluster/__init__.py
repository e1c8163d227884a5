"""Batch enhancement on a Ray cluster (``minelight enhance INPUTS -o OUT --ray auto|ADDRESS``).

Needs the ``[cluster]`` extra (``pip install -e ".[cluster]"``); nothing else in minelight imports Ray.

* :mod:`minelight.cluster.local`: connect to a running cluster, or start one on this machine for the run.
* :mod:`minelight.cluster.batch`: one enhancer per worker process (a Ray actor per CPU of each node), images
  in batches, one video per task; the same output names and pixels as a run on one machine.
"""
