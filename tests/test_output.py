"""Atomic writes: whole files or nothing, with ordinary permissions."""

import stat

import pytest

from studykit.output import atomic_path, atomic_write_text


def test_outputs_get_the_umask_permissions_not_private_ones(tmp_path):
    atomic_write_text(tmp_path / "out.txt", "hello")
    plain = tmp_path / "plain.txt"
    plain.write_text("hello")   # what open() gives under the same umask
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == \
        stat.S_IMODE(plain.stat().st_mode)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "book.pdf"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("render failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["book.pdf"]
