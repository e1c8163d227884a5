import cv2
import numpy as np
import pytest

from minelight.io import (ImageError, check_image, decode_image, list_images, read_image, to_array, to_tensor,
                          write_image)


def _encode(arr: np.ndarray, ext: str = ".png") -> bytes:
    ok, buf = cv2.imencode(ext, arr)
    assert ok
    return buf.tobytes()


def test_8bit_rgb_roundtrip(tmp_path):
    img = np.random.default_rng(0).random((13, 17, 3)).astype(np.float32)
    write_image(tmp_path / "a.png", img)
    back = read_image(tmp_path / "a.png")
    assert back.shape == (13, 17, 3) and back.dtype == np.float32
    assert np.abs(back - img).max() <= 0.5 / 255 + 1e-6


def test_16bit_roundtrip_is_finer_than_8bit(tmp_path):
    img = np.random.default_rng(1).random((9, 11, 3)).astype(np.float32)
    write_image(tmp_path / "a.png", img, bits=16)
    assert np.abs(read_image(tmp_path / "a.png") - img).max() < 1e-4


def test_16bit_gray_is_scaled_and_repeated():
    gray16 = np.full((5, 6), 65535 // 2, np.uint16)
    img = decode_image(_encode(gray16))
    assert img.shape == (5, 6, 3)
    np.testing.assert_allclose(img, 0.5, atol=1e-4)


def test_rgba_drops_alpha_and_keeps_colour():
    bgra = np.zeros((4, 4, 4), np.uint8)
    bgra[..., 2] = 255  # red
    bgra[..., 3] = 10  # nearly transparent: colour is kept, not composited
    img = decode_image(_encode(bgra))
    assert img.shape == (4, 4, 3)
    np.testing.assert_allclose(img[0, 0], [1, 0, 0])


@pytest.mark.parametrize("data, cause", [(b"", "empty"), (b"\x89PNG\r\n\x1a\nbroken", "not a readable image"),
                                         (b"hello world" * 10, "not a readable image")])
def test_bad_bytes_raise_one_line_image_error(data, cause):
    with pytest.raises(ImageError, match=cause) as info:
        decode_image(data, "x.png")
    assert "\n" not in str(info.value) and "x.png" in str(info.value)


def test_truncated_png_is_an_error(tmp_path):
    data = _encode(np.full((32, 32, 3), 128, np.uint8))
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError):
        read_image(tmp_path / "t.png")


def test_missing_file_and_pixel_limit(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "nope.png")
    write_image(tmp_path / "big.png", np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ImageError, match="pixel limit"):
        read_image(tmp_path / "big.png", max_pixels=50)


def test_list_images_skips_other_files_and_rejects_empty(tmp_path):
    with pytest.raises(ImageError, match="no images"):
        list_images(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    write_image(tmp_path / "b.jpg", np.zeros((4, 4, 3), np.float32))
    assert [p.name for p in list_images(tmp_path)] == ["b.jpg"]


def test_write_failure_leaves_no_file(tmp_path, monkeypatch):
    import minelight.io as mio

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mio.os, "replace", boom)
    with pytest.raises(ImageError, match="cannot write"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 3), np.float32))
    assert list(tmp_path.iterdir()) == []


def test_tensor_conversions():
    pytest.importorskip("torch", reason="tensors need the [train] extra")
    img = np.random.default_rng(2).random((5, 7, 3)).astype(np.float32)
    t = to_tensor(img)
    assert t.shape == (1, 3, 5, 7)
    np.testing.assert_array_equal(to_array(t), img)
    with pytest.raises(ValueError):
        check_image(np.zeros((5, 7)))


def test_atomic_write_into_a_missing_folder_names_the_file_asked_for(tmp_path):
    from minelight.io import atomic_write_bytes

    target = tmp_path / "missing" / "x.onnx"
    with pytest.raises(OSError) as err:
        atomic_write_bytes(target, b"data")
    assert err.value.filename == str(target)
    assert not (tmp_path / "missing").exists()
