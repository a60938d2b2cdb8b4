"""Zip archives read defensively: no traversal, no symlinks, no bombs.

Every zip the readers open goes through ``SafeZip``, which checks the whole
central directory before a single member is read: member names (no ``..``, no
absolute or drive paths), symlinks, encrypted members, the member count, and
the total uncompressed size the archive declares. ``zipfile`` never inflates a
member past its declared size, so the declared total is a real cap; reads are
counted anyway.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from app.ingest.errors import (
    CorruptFile,
    IngestError,
    TooLarge,
    UnsafeArchive,
    UnsupportedFormat,
    human_bytes,
)

MAX_MEMBERS = 1000
MAX_UNCOMPRESSED_BYTES = 512 * 2**20
MAX_RATIO = 200  # uncompressed / compressed for one member: text compresses ~10x, bombs ~1000x

_DRIVE = re.compile(r"^[A-Za-z]:")


def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts like a zip archive (local file header or empty archive)."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


class SafeZip:
    """A checked, read-only zip archive.

    Parameters
    ----------
    data : bytes or path
        The archive.
    name : str
        The upload's name, used in every error message.
    max_members, max_uncompressed_bytes, max_ratio
        Caps; over them the archive is refused before anything is inflated.

    Examples
    --------
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("../evil.txt", "x")
    >>> SafeZip(buf.getvalue(), name="field.zip")
    Traceback (most recent call last):
    ...
    app.ingest.errors.UnsafeArchive: field.zip: member '../evil.txt' escapes the archive (path traversal)
    """

    def __init__(self, data: bytes | Path, *, name: str = "archive", max_members: int = MAX_MEMBERS,
                 max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES, max_ratio: float = MAX_RATIO) -> None:
        self.name = name
        self._cap = max_uncompressed_bytes
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes | bytearray) else data)
        except zipfile.BadZipFile as exc:
            raise CorruptFile(f"{name}: not a readable zip archive ({exc})") from None
        except OSError as exc:
            raise CorruptFile(f"{name}: cannot be read as a zip archive ({exc})") from None
        infos = self._zip.infolist()
        if len(infos) > max_members:
            raise UnsafeArchive(f"{name}: {len(infos)} members, more than the {max_members} allowed")
        total = 0
        for info in infos:
            _check_name(info.filename, name)
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                raise UnsafeArchive(f"{name}: member {info.filename!r} is a symbolic link; links are refused")
            if info.flag_bits & 0x1:
                raise UnsupportedFormat(f"{name}: member {info.filename!r} is encrypted")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1 << 20 and ratio > max_ratio:
                raise TooLarge(f"{name}: member {info.filename!r} inflates {ratio:.0f} times (more than "
                               f"{max_ratio:g}); refused as a possible zip bomb",
                               cap_bytes=max_uncompressed_bytes)
        if total > max_uncompressed_bytes:
            raise TooLarge(f"{name}: uncompressed content of {human_bytes(total)} is over the "
                           f"{human_bytes(max_uncompressed_bytes)} limit (zip bomb?)", cap_bytes=max_uncompressed_bytes)
        self.members: list[str] = [i.filename for i in infos if not i.is_dir()]

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def find(self, *, suffix: str | None = None, basename: str | None = None) -> list[str]:
        """Members whose name ends with ``suffix`` or whose base name is ``basename`` (case-insensitive)."""
        out = []
        for m in self.members:
            base = PurePosixPath(m).name
            if base.startswith("._") or m.startswith("__MACOSX/"):
                continue  # macOS resource forks ride along in zips made on a Mac
            if suffix is not None and m.lower().endswith(suffix.lower()):
                out.append(m)
            elif basename is not None and base.lower() == basename.lower():
                out.append(m)
        return out

    def read(self, member: str) -> bytes:
        """A member's bytes, counted against the uncompressed cap."""
        try:
            with self._zip.open(member) as fh:
                data = fh.read(self._cap + 1)
        except KeyError:
            raise IngestError(f"{self.name}: no member {member!r}") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise CorruptFile(f"{self.name}: member {member!r} is damaged ({exc})") from None
        except Exception as exc:  # zlib.error and friends for corrupt deflate streams
            raise CorruptFile(f"{self.name}: member {member!r} cannot be inflated ({exc})") from None
        if len(data) > self._cap:
            raise TooLarge(f"{self.name}: member {member!r} is over the {human_bytes(self._cap)} limit",
                           cap_bytes=self._cap)
        return data

    def extract(self, members: list[str], dest: Path) -> list[Path]:
        """Write ``members`` flat into ``dest`` (base names only) and return their paths."""
        paths = []
        for m in members:
            target = dest / PurePosixPath(m).name
            target.write_bytes(self.read(m))
            paths.append(target)
        return paths


def _check_name(member: str, name: str) -> None:
    if "\x00" in member:
        raise UnsafeArchive(f"{name}: member {member!r} has a NUL byte in its name")
    posix = member.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise UnsafeArchive(f"{name}: member {member!r} has an absolute path")
    if ".." in PurePosixPath(posix).parts:
        raise UnsafeArchive(f"{name}: member {member!r} escapes the archive (path traversal)")
