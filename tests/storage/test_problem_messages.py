"""Messages an operator reads when a dataset cannot be archived say what is wrong."""

from __future__ import annotations

from archiver.storage.sources import describe_problems, scan


def test_a_missing_source_folder_is_named_not_counted_as_one_file(tmp_path):
    members, problems = scan(str(tmp_path / "gone"), ["a.dat", "b.dat"])
    text = describe_problems(problems)
    assert members == []
    assert "source folder" in text and "none of the 2 listed file(s)" in text
    assert "1 file(s)" not in text
