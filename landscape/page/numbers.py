"""The page's numbers: named typed arrays, allocated after a check of their size, packed into one
compressed block of the HTML file, which the page's JavaScript unpacks once
(``DecompressionStream``) and then only looks up.

The block is zlib data (what ``DecompressionStream("deflate")`` reads), base64 in the page. Unpacked
it is a 4-byte little-endian length, that many bytes of JSON (every array's offset, type, shape and
encoding, and the page's tables), then the arrays, each at an offset that is a multiple of 8.
Coordinates are ``quantise``d to uint16 over their range (``NONE``: not there, e.g. after a run
diverged). An array may be stored as differences along its last axis (a path's next point is near
its last), and each array's bytes are stored plane by plane (every first byte, then every second
byte), which deflate compresses far better."""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np

NONE = 65535  # a quantised coordinate that is not there (a diverged run's points)
LEVELS = 65534  # quantised coordinates run from 0 (low) to LEVELS (high)
# the page's arrays before compression, at most: the explorer's default (four optimizers x 150
# steps) holds ~12 MB (a page of ~3 MB); this allows about four times that, a page a phone opens
MAX_NUMBER_BYTES = 48_000_000
TYPES = {np.dtype(np.uint8): "u8", np.dtype(np.uint16): "u16", np.dtype(np.int16): "i16",
         np.dtype(np.float32): "f32"}


def quantise(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``values`` as uint16 on ``low`` … ``high`` (0 … LEVELS, clipped), NONE where not finite;
    q stands for ``low + q * (high - low) / LEVELS`` (``dequantise``)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    scaled = np.clip((np.where(finite, values, low) - low) / (high - low) * LEVELS, 0, LEVELS)
    return np.where(finite, np.round(scaled), NONE).astype(np.uint16)


def dequantise(quantised: np.ndarray, low: float, high: float) -> np.ndarray:
    """The values the page reads back from ``quantise`` (NaN for NONE)."""
    return np.where(quantised == NONE, np.nan, low + quantised * ((high - low) / LEVELS))


Shapes = dict[str, tuple[tuple[int, ...], type, bool]]  # name -> (shape, type, stored as differences)


def number_bytes(shapes: Shapes) -> int:
    """The bytes of arrays of these shapes, before compression."""
    return sum(int(np.prod(shape)) * np.dtype(kind).itemsize for shape, kind, _ in shapes.values())


def check_size(shapes: Shapes, what: str, lower: str) -> int:
    """The bytes of the page's arrays (``number_bytes``); ``ValueError`` when they would be more
    than ``MAX_NUMBER_BYTES``, saying ``what`` the page would hold, its size and what to ``lower``."""
    size = number_bytes(shapes)
    if size > MAX_NUMBER_BYTES:
        raise ValueError(f"a page of {what} would hold {size / 1e6:.1f} MB of numbers before compression "
                         f"(at most {MAX_NUMBER_BYTES / 1e6:.0f} MB): {lower}")
    return size


class Numbers:
    """The arrays of one page, allocated (zeros) once ``check_size`` allows them; the page fills
    them (``numbers[name][...] = …``) and ``block`` packs them."""

    def __init__(self, shapes: Shapes, what: str, lower: str):
        check_size(shapes, what, lower)
        for name, (_, kind, _) in shapes.items():
            if np.dtype(kind) not in TYPES:
                raise ValueError(f"{name}: a page stores {', '.join(TYPES.values())}, not {np.dtype(kind)}")
        self.arrays = {name: np.zeros(shape, kind) for name, (shape, kind, _) in shapes.items()}
        self.differences = {name: differences for name, (_, _, differences) in shapes.items()}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def block(self, tables: dict) -> str:
        """The base64 text of the compressed block: ``tables`` (JSON) and every array."""
        index, parts, offset = {}, [], 0
        for name, array in self.arrays.items():
            stored = array
            if self.differences[name] and array.shape[-1] > 1:
                stored = array.copy()
                stored[..., 1:] = array[..., 1:] - array[..., :-1]  # wraps around, as the page's sums do
            planes = stored.view(np.uint8).reshape(-1, array.dtype.itemsize).T.tobytes()
            index[name] = {"offset": offset, "type": TYPES[array.dtype], "shape": list(array.shape),
                           "differences": self.differences[name]}
            parts.append(planes + bytes(-len(planes) % 8))
            offset += len(parts[-1])
        header = json.dumps({**tables, "arrays": index}, separators=(",", ":"), ensure_ascii=False).encode()
        header += b" " * (-(len(header) + 4) % 8)  # the arrays start at a multiple of 8
        packed = len(header).to_bytes(4, "little") + header + b"".join(parts)
        return base64.b64encode(zlib.compress(packed, 5)).decode("ascii")  # level 6: 2 % fewer bytes, twice the time
