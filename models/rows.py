"""Rows of a large ``.npy`` table, read from the file as they are needed.

The caption decoder needs one word-embedding row per generated token. Reading it with
``os.pread`` keeps the 23-94 MB table out of the process's resident memory entirely; a memory
map would not (the kernel maps whole 2 MB folios around every row touched).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError


class TableRows:
    """Float32 rows of a 2-D ``.npy`` table (float32, or int8 with one scale per row)."""

    def __init__(self, path: Path, scales: Path | None = None) -> None:
        self._fd = -1
        with path.open("rb") as handle:
            try:
                fmt = np.lib.format
                major, _ = fmt.read_magic(handle)
                read = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
                shape, fortran, dtype = read(handle)
            except ValueError as exc:
                raise MoodcastError(f"{path} is not a .npy table ({exc})",
                                    "export the models again") from exc  # fmt: skip
            self._offset = handle.tell()
        if len(shape) != 2 or fortran or dtype not in (np.float32, np.int8):
            raise MoodcastError(f"{path} holds a {dtype} array of shape {shape}",
                                "export the models again")  # fmt: skip
        self.rows, self.width = int(shape[0]), int(shape[1])
        self._dtype = np.dtype(dtype)
        self._stride = self.width * self._dtype.itemsize
        self._scales = None if scales is None else np.load(scales).astype(np.float32)
        if self._dtype == np.int8 and (self._scales is None or len(self._scales) != self.rows):
            raise MoodcastError(f"{path}: int8 rows need one scale per row",
                                "export the models again")  # fmt: skip
        self._fd = os.open(path, os.O_RDONLY)

    def __call__(self, ids: list[int]) -> NDArray[np.float32]:
        """The rows for ``ids`` as a (len(ids), width) float32 array."""
        out = np.empty((len(ids), self.width), np.float32)
        for i, row in enumerate(ids):
            if not 0 <= row < self.rows:
                raise ValueError(f"row {row} outside the table of {self.rows}")
            data = os.pread(self._fd, self._stride, self._offset + row * self._stride)
            out[i] = np.frombuffer(data, self._dtype)
            if self._scales is not None:
                out[i] *= self._scales[row]
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()
