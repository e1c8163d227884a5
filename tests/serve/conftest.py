"""Every service test leaves /dev/shm as it found it: no gateway's shared memory may outlive the service tests."""

import time

import pytest

from minelight.serve.shared import PREFIX, SHM_DIR


def _ours() -> set[str]:
    try:
        return {p.name for p in SHM_DIR.iterdir() if p.name.startswith(PREFIX)}
    except OSError:
        return set()


@pytest.fixture(scope="package", autouse=True)
def shared_memory_is_left_as_found():
    before = _ours()
    yield
    deadline = time.monotonic() + 10.0
    while _ours() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _ours() - before, f"shared memory left in {SHM_DIR}: {sorted(_ours() - before)}"
