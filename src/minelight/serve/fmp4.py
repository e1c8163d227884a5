"""Fragmented MP4 for Media Source Extensions: one H.264 video track, one frame per fragment.

    init = init_segment(sps, pps)                      # ftyp + moov: what a SourceBuffer needs first
    frag = fragment(seq, decode_time, duration, sample, keyframe)   # moof + mdat: one coded frame
    codec_string(sps)                                  # 'avc1.42C01E': for MediaSource.isTypeSupported

Timestamps are in :data:`TIMESCALE` ticks (90 kHz). A sample is the frame's NAL units in AVCC form (each
prefixed by its 4-byte length), without parameter sets: those live in the init segment (``avcC``), so a
new SPS or PPS (another size, a restarted encoder) needs a new init segment. :func:`split_annexb` and
:func:`to_sample` turn an encoder's Annex B packet into that. One frame per fragment keeps latency at one
frame; the boxes cost about 100 bytes a frame.
"""

from __future__ import annotations

import re
import struct

TIMESCALE = 90000  # ticks per second of the track's timeline

NAL_SEI, NAL_SPS, NAL_PPS, NAL_AUD = 6, 7, 8, 9
_START = re.compile(b"\x00\x00\x01")

_MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)  # identity (16.16 / 2.30)
KEY_FLAGS = 0x02000000  # sample_depends_on = 2: a sync sample
DELTA_FLAGS = 0x01010000  # sample_depends_on = 1, sample_is_non_sync_sample = 1


def box(kind: bytes, *payload: bytes) -> bytes:
    """An ISO BMFF box: 32-bit size, four-character type, payload."""
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def split_annexb(packet: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01), without start codes."""
    starts = [m.end() for m in _START.finditer(packet)]
    units = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(packet)
        unit = packet[start:end]
        if i + 1 < len(starts) and unit.endswith(b"\x00"):  # the 4-byte start code's leading zero
            unit = unit[:-1]
        if unit:
            units.append(unit)
    return units


def nal_type(unit: bytes) -> int:
    return unit[0] & 0x1F


def parameter_sets(units: list[bytes]) -> tuple[bytes | None, bytes | None]:
    """The first SPS and PPS among ``units`` (None where there is none)."""
    sps = next((u for u in units if nal_type(u) == NAL_SPS), None)
    pps = next((u for u in units if nal_type(u) == NAL_PPS), None)
    return sps, pps


def to_sample(units: list[bytes]) -> bytes:
    """The frame's NAL units as one AVCC sample (4-byte lengths), leaving out parameter sets, access unit
    delimiters and SEI (x264's first frame carries its settings as text there)."""
    return b"".join(struct.pack(">I", len(u)) + u for u in units
                    if nal_type(u) not in (NAL_SPS, NAL_PPS, NAL_AUD, NAL_SEI))


def codec_string(sps: bytes) -> str:
    """RFC 6381 codec of an H.264 stream from its SPS: ``avc1.PPCCLL`` (profile, constraint flags, level)."""
    if len(sps) < 4 or nal_type(sps) != NAL_SPS:
        raise ValueError("not an H.264 sequence parameter set")
    return f"avc1.{sps[1]:02X}{sps[2]:02X}{sps[3]:02X}"


class _Bits:
    """An RBSP bit reader (emulation-prevention bytes removed) with Exp-Golomb codes."""

    def __init__(self, unit: bytes):
        self.data = unit.replace(b"\x00\x00\x03", b"\x00\x00")
        self.pos = 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]  # IndexError at the end: a truncated SPS
        self.pos += 1
        return (byte >> (7 - ((self.pos - 1) & 7))) & 1

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bit():
            zeros += 1
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def sps_size(sps: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels that an SPS of baseline, main or extended profile describes."""
    try:
        bits = _Bits(sps[4:])  # after the NAL header, profile, constraint flags and level
        bits.ue()  # seq_parameter_set_id
        if sps[1] not in (66, 77, 88):
            raise ValueError(f"H.264 profile {sps[1]} is not read here; use baseline or main")
        bits.ue()  # log2_max_frame_num_minus4
        poc_type = bits.ue()
        if poc_type == 0:
            bits.ue()
        elif poc_type == 1:
            bits.bit()
            bits.se()
            bits.se()
            for _ in range(bits.ue()):
                bits.se()
        bits.ue()  # max_num_ref_frames
        bits.bit()  # gaps_in_frame_num_value_allowed_flag
        width_mbs, height_units = bits.ue() + 1, bits.ue() + 1
        frame_mbs_only = bits.bit()
        if not frame_mbs_only:
            bits.bit()
        bits.bit()  # direct_8x8_inference_flag
        crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue()) if bits.bit() else (0, 0, 0, 0)
    except IndexError:
        raise ValueError("truncated H.264 sequence parameter set") from None
    height_mbs = height_units * (2 - frame_mbs_only)
    return 16 * width_mbs - 2 * (crop[0] + crop[1]), 16 * height_mbs - 2 * (2 - frame_mbs_only) * (crop[2] + crop[3])


def _avcc(sps: bytes, pps: bytes) -> bytes:
    """The AVCDecoderConfigurationRecord (ISO/IEC 14496-15) for baseline, main or extended profile."""
    if sps[1] not in (66, 77, 88):
        raise ValueError(f"H.264 profile {sps[1]} needs the high-profile avcC fields; use baseline or main")
    return box(b"avcC", bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]), struct.pack(">H", len(sps)), sps,
               b"\x01", struct.pack(">H", len(pps)), pps)


def init_segment(sps: bytes, pps: bytes) -> bytes:
    """``ftyp`` + ``moov`` of a fragmented MP4 with one H.264 track (track 1, :data:`TIMESCALE`), its
    picture size read from the SPS (4:2:0)."""
    width, height = sps_size(sps)
    ftyp = box(b"ftyp", b"iso5", struct.pack(">I", 512), b"iso5iso6avc1mp41")
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 0), struct.pack(">IH", 0x00010000, 0x0100),
                    bytes(10), _MATRIX, bytes(24), struct.pack(">I", 2))
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIII", 0, 0, 1, 0), struct.pack(">I", 0), bytes(8),
                    struct.pack(">HHHH", 0, 0, 0, 0), _MATRIX, struct.pack(">II", width << 16, height << 16))
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, TIMESCALE, 0), struct.pack(">HH", 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I", 0), b"vide", bytes(12), b"minelight\x00")
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    avc1 = box(b"avc1", bytes(6), struct.pack(">H", 1), bytes(16), struct.pack(">HH", width, height),
               struct.pack(">II", 0x00480000, 0x00480000), bytes(4), struct.pack(">H", 1), bytes(32),
               struct.pack(">Hh", 0x0018, -1), _avcc(sps, pps))
    stbl = box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
               full_box(b"stts", 0, 0, bytes(4)), full_box(b"stsc", 0, 0, bytes(4)),
               full_box(b"stsz", 0, 0, bytes(8)), full_box(b"stco", 0, 0, bytes(4)))
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", vmhd, dinf, stbl)))
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, trak, mvex)


def fragment(sequence: int, decode_time: int, duration: int, sample: bytes, keyframe: bool) -> bytes:
    """``moof`` + ``mdat`` holding one frame: ``decode_time`` and ``duration`` in :data:`TIMESCALE` ticks."""
    mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", sequence & 0xFFFFFFFF))
    tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", 1))  # default-base-is-moof
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_time))

    def moof(data_offset: int) -> bytes:
        trun = full_box(b"trun", 0, 0x000701, struct.pack(">Ii", 1, data_offset),  # offset, duration, size, flags
                        struct.pack(">III", duration, len(sample), KEY_FLAGS if keyframe else DELTA_FLAGS))
        return box(b"moof", mfhd, box(b"traf", tfhd, tfdt, trun))

    size = len(moof(0))
    return moof(size + 8) + box(b"mdat", sample)


def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level boxes of ``data`` as ``(type, payload)`` (for tests and tools)."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size < 8 or pos + size > len(data):
            raise ValueError(f"broken box {kind!r} at {pos}")
        out.append((kind, data[pos + 8:pos + size]))
        pos += size
    if pos != len(data):
        raise ValueError("trailing bytes after the last box")
    return out
