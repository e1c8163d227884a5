"""A stream of frames enhanced in order, with the stateless part of each frame run in worker threads.

:meth:`Enhancer.prepare_frame` updates a video's temporal state and hands back the rest of the frame (for
the fast model: its network and the full-resolution steps), which reads no state. Running that rest in a
few threads while the next frames are prepared keeps every core busy (onnxruntime and OpenCV release the
GIL); the frames still come out in order.

    for frame, out in enhanced_frames(enhancer, frames, denoiser=enhancer.denoiser(), workers=2):
        writer.write(out)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..enhance.denoise import TemporalDenoiser
from ..enhance.enhancer import Enhancer
from ..enhance.temporal import TemporalSmoother


def enhanced_frames(enhancer: Enhancer, frames: Iterable[np.ndarray], smoother: TemporalSmoother | None = None,
                    denoiser: TemporalDenoiser | None = None, workers: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(frame, enhanced)`` for each uint8 ``(H, W, 3)`` frame of ``frames``, in order. ``workers`` > 1:
    up to that many frames are finished at once in threads (at most ``workers + 1`` in flight); 1: one
    after the other in the caller's thread. An error in any frame is raised here, in order."""
    if workers <= 1:
        for frame in frames:
            yield frame, enhancer.enhance_frame(frame, smoother, denoiser)
        return
    pending: deque = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="enhance") as pool:
        try:
            for frame in frames:
                pending.append((frame, pool.submit(enhancer.prepare_frame(frame, smoother, denoiser))))
                while len(pending) > workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()
