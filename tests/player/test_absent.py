from __future__ import annotations

from pathlib import Path

from moodcast.player.absent import AbsentFiles, is_gone


def test_gone_files_are_looked_for_once_per_interval_and_handed_back(tmp_path: Path) -> None:
    here, later = tmp_path / "here.ogg", tmp_path / "later.ogg"
    here.write_bytes(b"x")
    absent = AbsentFiles(interval_s=10)
    absent.add(1, str(here))
    absent.add(2, str(later))
    assert absent.returned(0.0) == [1] and len(absent) == 1
    later.write_bytes(b"x")
    assert absent.returned(5.0) == []  # not yet looked at again
    assert absent.returned(10.0) == [2] and len(absent) == 0
    assert absent.returned(100.0) == []


def test_a_folder_or_a_dead_path_counts_as_gone(tmp_path: Path) -> None:
    assert is_gone(str(tmp_path)) and is_gone(str(tmp_path / "nope.ogg"))
    assert is_gone("\0bad")  # a path the OS refuses outright
