"""Join codes a trainer reads aloud to a room, and the QR code that carries the join link.

The alphabet leaves out characters that look or sound alike on a projector or over a
loudspeaker: 0/O, 1/I/L. Six characters from 31 give about 887 million codes, so a
clash with another open workshop is rare and simply retried.
"""

from __future__ import annotations

import secrets
import struct
import zlib

import qrcode

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(raw: str) -> str:
    """What a person typed -> the stored form: upper case, without spaces or dashes."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())[:20]


def is_well_formed(code: str) -> bool:
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def qr_png(text: str, scale: int = 10, border: int = 4) -> bytes:
    """A black-on-white PNG of the QR code for ``text``.

    qrcode computes the matrix; the PNG is written here with zlib so the server needs no
    imaging library for one greyscale picture.
    """
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the quiet zone (border)
    rows = bytearray()
    for row in matrix:
        line = bytes(0 if dark else 255 for dark in row for _ in range(scale))
        for _ in range(scale):
            rows += b"\x00" + line  # filter type 0 per scanline
    size = len(matrix) * scale

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )
