"""Is a stored array artefact (:mod:`model.arrays`) whole? Its files checked against its manifest.

Only headers and sizes are read, never the data, so the check is cheap enough to run on every
read: a truncated ``.npy`` file, a garbled header, a missing file or a ``meta.pkl`` of the wrong
size make the artefact count as absent, and the next preparation rebuilds it.
"""

from __future__ import annotations

import json
import os
from typing import IO

import numpy as np


def opened(folder_handle: int, name: str) -> IO[bytes]:
    """File ``name`` of the folder open as ``folder_handle``, opened for reading in binary."""
    return open(name, "rb", opener=lambda path, flags: os.open(path, flags, dir_fd=folder_handle))


def header(handle: IO[bytes]) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of an open ``.npy`` file (ValueError if it has no valid header)."""
    version = np.lib.format.read_magic(handle)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"unknown .npy version {version}")
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(handle)
    if fortran:
        raise ValueError("Fortran order is never written to the cache")
    return tuple(int(s) for s in shape), np.dtype(dtype), handle.tell()


def damage(folder_handle: int) -> str | None:
    """Why the artefact in the open folder is damaged, in words; None when it is whole (or just vanished).

    Each array's ``.npy`` header must hold the manifest's dtype and shape and its file exactly the
    header and the data; ``meta.pkl`` (when the manifest has one) the rest of the manifest's bytes.
    """

    def size(name: str) -> int:
        return os.stat(name, dir_fd=folder_handle).st_size

    try:
        with opened(folder_handle, "manifest.json") as handle:
            manifest = json.load(handle)
        listed = dict(manifest["arrays"])
    except FileNotFoundError:
        return None  # being replaced or deleted right now: absent, not damaged
    except (OSError, ValueError, KeyError, TypeError):
        return "its manifest is unreadable"
    array_bytes = 0
    for name, info in listed.items():
        if info is None:
            continue
        try:
            with opened(folder_handle, f"{name}.npy") as handle:
                shape, dtype, start = header(handle)
            found = size(f"{name}.npy")
        except OSError:
            return f"{name}.npy is missing"
        except ValueError:
            return f"{name}.npy has no valid array header"
        if dtype.str != info.get("dtype") or list(shape) != list(info.get("shape", ())):
            return f"{name}.npy holds {dtype.str} {list(shape)}, not {info.get('dtype')} {info.get('shape')}"
        wanted = start + int(np.prod(shape)) * dtype.itemsize
        if found != wanted:
            return f"{name}.npy is {found} bytes, {wanted} expected"
        array_bytes += found
    if manifest.get("meta"):
        try:
            meta_bytes = size("meta.pkl")
        except OSError:
            return "meta.pkl is missing"
        nbytes = int(manifest.get("nbytes") or 0)
        if nbytes and meta_bytes != nbytes - array_bytes:
            return f"meta.pkl is {meta_bytes} bytes, {nbytes - array_bytes} expected"
    return None
