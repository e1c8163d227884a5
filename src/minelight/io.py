"""Image reading and writing with one convention.

Arrays: float32 ``(H, W, 3)`` RGB in [0, 1]. Tensors: float32 ``(B, 3, H, W)`` in [0, 1].
Every reader failure raises :class:`ImageError` with a one-line message naming the file.
Every write goes to a temporary name in the target folder and is renamed when complete.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MAX_PIXELS = 120_000_000  # refuse images larger than this (about 11k x 11k) unless told otherwise


class ImageError(ValueError):
    """An image could not be read or written; the message names the file and the cause."""


def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name. Raises ImageError if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(f"{folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))
    if not files:
        raise ImageError(f"{folder}: no images found (looked for {', '.join(IMAGE_SUFFIXES)})")
    return files


def collect_images(inputs: list[str | os.PathLike]) -> list[Path]:
    """Image files named directly or found in folders (non-image files in folders are skipped).
    Raises ImageError for no inputs, a missing path, or a folder without images."""
    paths = [Path(p) for p in inputs]
    if not paths:
        raise ImageError("no inputs given")
    for p in paths:
        if not p.exists():
            raise ImageError(f"{p}: no such file or folder")
    return [f for p in paths for f in (list_images(p) if p.is_dir() else [p])]


def decode_image(data: bytes, name: str = "<bytes>", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes to float32 RGB ``(H, W, 3)`` in [0, 1].

    8- and 16-bit depths are scaled by their maximum; grayscale is repeated to 3 channels;
    an alpha channel is dropped (the colour is kept as stored, not composited); palette
    images are expanded by the decoder.
    """
    if not data:
        raise ImageError(f"{name}: empty file")
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None or img.size == 0:
        raise ImageError(f"{name}: not a readable image (corrupt or unsupported format)")
    if img.shape[0] * img.shape[1] > max_pixels:
        raise ImageError(f"{name}: {img.shape[1]}x{img.shape[0]} exceeds the pixel limit {max_pixels}")
    return _to_float_rgb(img, name)


def _to_float_rgb(img: np.ndarray, name: str) -> np.ndarray:
    if img.dtype == np.uint8:
        scale = 255.0
    elif img.dtype == np.uint16:
        scale = 65535.0
    elif img.dtype == np.float32:
        scale = 1.0
    else:
        raise ImageError(f"{name}: unsupported sample type {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    channels = img.shape[2]
    if channels == 1:
        img = np.repeat(img, 3, axis=2)
    elif channels == 4:
        img = img[:, :, :3]
    elif channels != 3:
        raise ImageError(f"{name}: unsupported channel count {channels}")
    rgb = np.nan_to_num(img[:, :, ::-1].astype(np.float32) / scale, nan=0.0, posinf=1.0, neginf=0.0)
    return np.ascontiguousarray(np.clip(rgb, 0.0, 1.0))


def read_image(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file to float32 RGB ``(H, W, 3)`` in [0, 1]."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImageError(f"{path}: cannot read ({err.strerror})") from None
    return decode_image(data, str(path), max_pixels)


def encode_image(img: np.ndarray, suffix: str = ".png", bits: int = 8, jpeg_quality: int = 95) -> bytes:
    """Encode float RGB ``(H, W, 3)`` in [0, 1] to bytes. PNG/TIFF may be 16-bit; others are 8-bit."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) array, got shape {img.shape}")
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, got {bits}")
    suffix = suffix.lower()
    if bits == 16 and suffix not in (".png", ".tif", ".tiff"):
        raise ValueError(f"16-bit output needs .png or .tif, not {suffix}")
    peak = 65535.0 if bits == 16 else 255.0
    dtype = np.uint16 if bits == 16 else np.uint8
    bgr = np.round(np.clip(img[:, :, ::-1], 0.0, 1.0) * peak).astype(dtype)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if suffix in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(suffix, bgr, params)
    if not ok:
        raise ValueError(f"cannot encode an image as {suffix}")
    return buf.tobytes()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as err:  # name the file asked for, not the temporary one
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_image(path: str | os.PathLike, img: np.ndarray, bits: int = 8, jpeg_quality: int = 95) -> None:
    """Write float RGB ``(H, W, 3)`` in [0, 1]; the format follows the suffix. Atomic."""
    path = Path(path)
    if not is_image_path(path):
        raise ImageError(f"{path}: unknown image type (use one of {', '.join(IMAGE_SUFFIXES)})")
    try:
        atomic_write_bytes(path, encode_image(img, path.suffix, bits, jpeg_quality))
    except OSError as err:
        raise ImageError(f"{path}: cannot write ({err.strerror})") from None


def check_image(img: np.ndarray) -> np.ndarray:
    """Raise ValueError unless ``img`` is an ``(H, W, 3)`` array; returns it."""
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) < 1:
        raise ValueError(f"expected an (H, W, 3) image array, got {getattr(img, 'shape', type(img).__name__)}")
    return img


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> uint8 [0, 255], rounded, NaN -> 0 (one OpenCV pass after the clip)."""
    return cv2.convertScaleAbs(np.clip(img, 0.0, 1.0).astype(np.float32, copy=False), alpha=255.0)


def from_uint8(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / 255.0


def quantise8(img: np.ndarray) -> np.ndarray:
    """Float [0, 1] -> the same rounded to 8 bits, float32 (what an 8-bit output file holds; for scoring)."""
    return from_uint8(to_uint8(img))


def to_tensor(img: np.ndarray) -> "torch.Tensor":  # noqa: F821 - PyTorch: the [train] extra
    """``(H, W, 3)`` array -> ``(1, 3, H, W)`` float32 tensor."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32)).permute(2, 0, 1)[None]


def to_array(t: "torch.Tensor") -> np.ndarray:  # noqa: F821
    """``(1, 3, H, W)`` or ``(3, H, W)`` tensor -> ``(H, W, 3)`` float32 array clipped to [0, 1]."""
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ValueError(f"expected a batch of one, got {t.shape[0]}")
        t = t[0]
    return t.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy().astype(np.float32)
