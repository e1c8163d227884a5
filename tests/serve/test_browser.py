"""The page in a real browser: headless Chromium shows live, non-black enhanced frames of two cameras."""

import cv2
import numpy as np
import pytest

from .browser import CHROMIUM, screenshot_when
from .helpers import ServeProcess, wait_for, write_clip

TILES_PLAYING = ("typeof minelightTiles === 'function' && minelightTiles().length == 2 "
                 "&& minelightTiles().every(t => t.frames > 10)")
LARGE_SHOWN = ("typeof minelightLarge === 'function' "
               "&& (l => l && (l.player == 'h264' ? l.frames > 10 : l.width > 0))(minelightLarge())")


def screenshot(url: str, profile, ready: str, size=(1300, 700)) -> np.ndarray:
    """Headless Chromium's picture of ``url`` once ``ready`` holds and a second more has passed, uint8 RGB."""
    png = screenshot_when(url, profile, ready, size)
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]


def side_by_side_ok(side: np.ndarray) -> bool:
    """Side by side: the original (left half) stays dark, the enhanced picture (right half) is bright."""
    body = side[90:480].mean(axis=2)
    left, right = body[:, 20:630], body[:, 670:1280]
    return (right > 40).mean() > 0.3 and right.mean() > left.mean() + 20


def tiles_ok(shot: np.ndarray) -> bool:
    """The two tiles are the first grid row (420 px or wider each, from x=10, below the 36 px header). Their
    video areas must hold bright, varied pixels: enhanced frames, not the black of an empty <img>."""
    tiles = [shot[50:260, 20:410], shot[50:260, 450:840]]
    return all((tile.mean(axis=2) > 40).mean() > 0.3 and tile.std() > 5 for tile in tiles)


def shot_until(ok, url: str, profile, ready: str, size=(1300, 700), tries: int = 3) -> np.ndarray:
    """Screenshots of ``url`` until ``ok(shot)`` holds, at most ``tries`` (a loaded machine can starve the
    first one of frames); returns the last one."""
    for _ in range(tries):
        shot = screenshot(url, profile, ready, size)
        if ok(shot):
            break
    return shot


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_page_shows_live_enhanced_frames_of_two_cameras(tmp_path):
    clips = [write_clip(tmp_path / f"c{i}.mp4", seed=i, size=(180, 320)) for i in range(2)]
    server = ServeProcess(["--source", str(clips[0]), "--source", str(clips[1]), "--port", "0",
                           "--token", "tok"], tmp_path / "log")
    try:
        wait_for(lambda: set(server.states().values()) == {"live"}, 90)
        shot = shot_until(tiles_ok, f"{server.url}/?token=tok", tmp_path / "chromium", TILES_PLAYING)
        side = shot_until(side_by_side_ok, f"{server.url}/?token=tok#camera=c0&view=side", tmp_path / "chromium",
                          LARGE_SHOWN, (1300, 500))
    finally:
        server.stop()
    assert side_by_side_ok(side)
    assert tiles_ok(shot)
