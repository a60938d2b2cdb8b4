"""Uploads to temporary files, under a size cap, without holding them in memory.

A drone GeoTIFF can be hundreds of megabytes: the service passes the request
body's chunks (or its file object) here and the readers work from the path.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from app.ingest.errors import IngestError, TooLarge, human_bytes

DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB; the service should pass its own, smaller cap
_CHUNK = 1 << 20

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO | Iterable[bytes]


def _chunks(source: Source, name: str) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source) if not isinstance(source, bytes) else source
        return
    read = getattr(source, "read", None)
    if callable(read):
        while True:
            block = read(_CHUNK)
            if not block:
                return
            if not isinstance(block, bytes | bytearray):
                raise IngestError(f"{name}: the file object yields {type(block).__name__}, not bytes "
                                  f"(open it in binary mode)")
            yield bytes(block)
    if isinstance(source, Iterable) and not isinstance(source, str):
        for block in source:
            if not isinstance(block, bytes | bytearray | memoryview):
                raise IngestError(f"{name}: chunks must be bytes, got {type(block).__name__}")
            yield bytes(block)
        return
    raise IngestError(f"{name}: expected bytes, a path, a binary file object or an iterator of byte chunks, "
                      f"got {type(source).__name__}")


@contextmanager
def spooled(source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES, suffix: str = "",
            name: str = "upload") -> Iterator[Path]:
    """A path to the upload's bytes on disk, removed on exit; at most ``max_bytes``.

    A ``str`` or ``PathLike`` names an existing file, used in place (its size
    is still checked). Bytes, a binary file object or an iterator of byte
    chunks are written to a temporary file chunk by chunk, so the content is
    never held in memory twice.

    Raises ``TooLarge`` naming the cap as soon as more than ``max_bytes``
    arrive, and ``IngestError`` for an empty upload.

    Examples
    --------
    >>> with spooled(iter([b"abc", b"def"]), max_bytes=10) as p:
    ...     p.read_bytes()
    b'abcdef'
    >>> with spooled(b"x" * 11, max_bytes=10, name="map.tif") as p:
    ...     pass
    Traceback (most recent call last):
    ...
    app.ingest.errors.TooLarge: map.tif: larger than the 10 bytes limit
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise IngestError(f"{name}: no such file {str(path)!r}")
        size = path.stat().st_size
        if size > max_bytes:
            raise TooLarge(f"{name}: {human_bytes(size)} is larger than the {human_bytes(max_bytes)} limit",
                           cap_bytes=max_bytes)
        if size == 0:
            raise IngestError(f"{name}: the file is empty")
        yield path
        return
    tmpdir = tempfile.mkdtemp(prefix="dosewise-ingest-")
    try:
        path = Path(tmpdir) / f"upload{suffix}"
        written = 0
        with open(path, "wb") as out:
            for block in _chunks(source, name):
                written += len(block)
                if written > max_bytes:
                    raise TooLarge(f"{name}: larger than the {human_bytes(max_bytes)} limit",
                                   cap_bytes=max_bytes)
                out.write(block)
        if written == 0:
            raise IngestError(f"{name}: the upload is empty")
        yield path
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
