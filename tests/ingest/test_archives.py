from __future__ import annotations

import io
import zipfile

import pytest

from app.ingest import IngestError, SafeZip, TooLarge, UnsafeArchive, spooled
from app.ingest.boundaries import boundary_from_isoxml
from tests.ingest.helpers import zip_bytes


@pytest.mark.parametrize(("member", "match"), [
    ("../../etc/passwd", r"z.zip: member '../../etc/passwd' escapes the archive \(path traversal\)"),
    ("TASKDATA/../../x.XML", r"escapes the archive"),
    ("..\\..\\x.shp", r"escapes the archive"),
    ("/etc/passwd", r"member '/etc/passwd' has an absolute path"),
    ("C:/Windows/x.shp", r"has an absolute path"),
])
def test_traversal_and_absolute_paths(member: str, match: str) -> None:
    with pytest.raises(UnsafeArchive, match=match):
        SafeZip(zip_bytes({member: b"x"}), name="z.zip")


def test_symlink_member() -> None:
    z = zip_bytes({"TASKDATA/TASKDATA.XML": b"/etc/passwd"}, symlinks=["TASKDATA/TASKDATA.XML"])
    with pytest.raises(UnsafeArchive, match=r"task.zip: member 'TASKDATA/TASKDATA.XML' is a symbolic link"):
        boundary_from_isoxml(z, name="task.zip")


def test_too_many_members() -> None:
    z = zip_bytes({f"f{i}.txt": b"" for i in range(20)})
    with pytest.raises(UnsafeArchive, match=r"z.zip: 20 members, more than the 10 allowed"):
        SafeZip(z, name="z.zip", max_members=10)


def test_zip_bomb_total_and_ratio() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"zeros{i}.bin", b"\0" * (8 << 20))
    data = buf.getvalue()
    assert len(data) < 100_000
    with pytest.raises(TooLarge, match=r"bomb.zip: member 'zeros0.bin' inflates \d+ times .*zip bomb"):
        SafeZip(data, name="bomb.zip")
    with pytest.raises(TooLarge, match=r"bomb.zip: uncompressed content of 24 MiB is over the 16 MiB limit") as e:
        SafeZip(data, name="bomb.zip", max_uncompressed_bytes=16 << 20, max_ratio=1e9)
    assert e.value.cap_bytes == 16 << 20


def test_not_a_zip_and_macos_forks() -> None:
    z = SafeZip(zip_bytes({"__MACOSX/._a.shp": b"x", "a.shp": b"y", "dir/b.SHP": b"z"}), name="z.zip")
    assert z.find(suffix=".shp") == ["a.shp", "dir/b.SHP"] and z.read("a.shp") == b"y"


def test_spool_caps_and_empties(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TooLarge, match=r"up.tif: larger than the 4 bytes limit"):
        with spooled([b"ab", b"cd", b"e"], max_bytes=4, name="up.tif"):
            pass
    with pytest.raises(IngestError, match=r"up.tif: the upload is empty"):
        with spooled(iter([]), name="up.tif"):
            pass
    p = tmp_path / "f.bin"
    p.write_bytes(b"12345")
    with pytest.raises(TooLarge, match=r"5 bytes is larger than the 4 bytes limit"):
        with spooled(p, max_bytes=4):
            pass
    with spooled(io.BytesIO(b"hello"), name="x") as path:
        kept = path
        assert path.read_bytes() == b"hello"
    assert not kept.exists()
