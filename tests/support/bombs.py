"""Hostile files built in the test: a .keras zip bomb (never held in memory whole)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

CHUNK = b" " * (1 << 20)


def keras_zip_bomb(path: Path, expanded_mib: int = 1024) -> Path:
    """A small .keras-shaped zip whose config.json inflates to ``expanded_mib`` MiB of JSON padding."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        with archive.open("config.json", "w", force_zip64=True) as entry:
            entry.write(b'{"class_name": "Sequential", "config": {"layers": []}, "pad": "')
            for _ in range(expanded_mib):
                entry.write(CHUNK)
            entry.write(b'"}')
        archive.writestr("model.weights.h5", b"")
    return path
