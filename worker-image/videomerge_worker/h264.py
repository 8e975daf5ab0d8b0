"""H.264 parameter sets (ITU-T H.264 7.3.2.1.1): how many reference frames a stream declares, read from
its decoder configuration (an ``avcC`` record, or Annex B start codes as MPEG-TS carries them). A decoder
keeps that many frames: a 1080p stream declaring 16 holds ~80 MiB where one declaring 1 holds ~17."""

from collections.abc import Iterator

# Profiles whose SPS carries chroma format, bit depths and scaling matrices.
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
SPS_NAL_TYPE = 7


class _Bits:
    """Big-endian bit reader over an RBSP; IndexError past its end."""

    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def bit(self) -> int:
        byte = self.data[self.position >> 3]
        value = (byte >> (7 - (self.position & 7))) & 1
        self.position += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("an Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def max_ref_frames(extradata: bytes) -> int | None:
    """``max_num_ref_frames`` of the first SPS in ``extradata`` (avcC or Annex B); None if none parses."""
    for nal in _nal_units(extradata):
        if nal and nal[0] & 0x1F == SPS_NAL_TYPE:
            try:
                return _sps_ref_frames(_rbsp(nal[1:]))
            except (IndexError, ValueError):
                return None
    return None


def _nal_units(extradata: bytes) -> Iterator[bytes]:
    if len(extradata) >= 8 and extradata[0] == 1:  # avcC: version 1, then length-prefixed SPSs
        count, offset = extradata[5] & 0x1F, 6
        for _ in range(count):
            length = int.from_bytes(extradata[offset : offset + 2], "big")
            yield extradata[offset + 2 : offset + 2 + length]
            offset += 2 + length
        return
    for unit in extradata.split(b"\x00\x00\x01"):
        yield unit.rstrip(b"\x00")


def _rbsp(payload: bytes) -> bytes:
    """The payload without its emulation prevention bytes (00 00 03 → 00 00)."""
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


def _sps_ref_frames(rbsp: bytes) -> int:
    bits = _Bits(rbsp)
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    if profile in _HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format == 3:
            bits.bit()  # separate_colour_plane_flag
        bits.ue()  # bit_depth_luma_minus8
        bits.ue()  # bit_depth_chroma_minus8
        bits.bit()  # qpprime_y_zero_transform_bypass_flag
        if bits.bit():  # seq_scaling_matrix_present_flag
            for index in range(12 if chroma_format == 3 else 8):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    order_type = bits.ue()
    if order_type == 0:
        bits.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif order_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        for _ in range(min(bits.ue(), 255)):
            bits.se()
    return bits.ue()


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last


def from_hexdump(text: str) -> bytes:
    """The bytes of ffprobe's ``-show_data`` dump (``00000000: 0164 0033 ...  .d.3``)."""
    data = bytearray()
    for line in text.splitlines():
        _, colon, rest = line.partition(": ")
        if colon:
            data += bytes.fromhex("".join(rest[:40].split()))
    return bytes(data)
