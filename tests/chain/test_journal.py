"""The crash-safe journal that keeps a registration's salt before its commitment is sent."""

from __future__ import annotations

import json
import os
import stat

import pytest

from qfzz_chain.journal import Journal, JournalError


def test_an_entry_is_written_whole_and_read_back(tmp_path):
    journal = Journal(tmp_path / "journal")
    assert journal.get("k") is None and list(journal.entries()) == []
    journal.put("k", {"salt": "0x01", "b": [1, 2]})
    assert journal.get("k") == {"salt": "0x01", "b": [1, 2]}
    text = (tmp_path / "journal" / "k.json").read_text()
    assert text == json.dumps({"b": [1, 2], "salt": "0x01"}, indent=2, sort_keys=True)
    assert sorted(os.listdir(tmp_path / "journal")) == ["k.json"]  # no temporary file left behind
    journal.put("k", {"salt": "0x02"})
    assert journal.get("k") == {"salt": "0x02"}


def test_entries_are_owner_only(tmp_path):
    journal = Journal(tmp_path / "journal")
    journal.put("k", {})
    assert stat.S_IMODE(os.stat(tmp_path / "journal").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "journal" / "k.json").st_mode) == 0o600


def test_entries_in_key_order_and_deleted_once(tmp_path):
    journal = Journal(tmp_path / "journal")
    for key in ("b", "a", "c"):
        journal.put(key, {"key": key})
    (tmp_path / "journal" / "notes.txt").write_text("not an entry")
    assert list(journal.entries()) == [("a", {"key": "a"}), ("b", {"key": "b"}), ("c", {"key": "c"})]
    journal.delete("b")
    journal.delete("b")  # already gone: no error
    assert [key for key, _ in journal.entries()] == ["a", "c"]


@pytest.mark.parametrize("key", ["", "a/b", ".hidden"])
def test_a_bad_key_is_refused(tmp_path, key):
    journal = Journal(tmp_path / "journal")
    with pytest.raises(JournalError, match="bad journal key"):
        journal.put(key, {})
    with pytest.raises(JournalError, match="bad journal key"):
        journal.get(key)


def test_an_unreadable_entry_is_named_and_kept(tmp_path):
    journal = Journal(tmp_path / "journal")
    journal.put("k", {})
    (tmp_path / "journal" / "k.json").write_text("{torn")
    with pytest.raises(JournalError, match="k.json is unreadable .* it may hold a salt: keep it"):
        journal.get("k")
    assert (tmp_path / "journal" / "k.json").exists()


def test_a_write_that_cannot_happen_is_a_journal_error(tmp_path):
    (tmp_path / "journal").mkdir()
    (tmp_path / "journal" / "k.json").mkdir()  # a folder where the entry should go
    with pytest.raises(JournalError, match="cannot write journal entry .*k.json: Is a directory"):
        Journal(tmp_path / "journal").put("k", {})
