"""The Anki deck, read back as what it is: a zip holding a SQLite collection."""

from __future__ import annotations

import json
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from studykit.loader import load_kit
from studykit.render.anki import FILE_NAME, MODEL_ID, AnkiRenderer, deck_id, note_guid
from studykit.render.base import BuildContext


def build_deck(content: Path, out: Path) -> Path:
    kit = load_kit(content)
    result = AnkiRenderer().render(BuildContext(kit=kit, report=None, out_dir=out))
    assert result.paths == [out / FILE_NAME]
    return result.paths[0]


def read_deck(path: Path, tmp: Path) -> dict:
    """Notes by their ID field, with guid, fields, tags and deck name; and the models."""
    folder = tmp / f"read-{len(list(tmp.glob('read-*')))}"
    with zipfile.ZipFile(path) as z:
        assert "collection.anki2" in z.namelist()
        z.extract("collection.anki2", folder)
    with sqlite3.connect(folder / "collection.anki2") as db:
        decks = json.loads(db.execute("select decks from col").fetchone()[0])
        models = json.loads(db.execute("select models from col").fetchone()[0])
        names = {int(k): v["name"] for k, v in decks.items()}
        notes = {}
        for guid, mid, flds, tags, did in db.execute(
                "select n.guid, n.mid, n.flds, n.tags, c.did from notes n "
                "join cards c on c.nid = n.id"):
            fields = flds.split("\x1f")
            notes[fields[0]] = {"guid": guid, "mid": mid, "fields": fields,
                                "tags": set(tags.split()), "deck": names[did]}
    # A model's modification time is the build's; what it is made of is compared.
    models = {k: {f: m[f] for f in ("name", "flds", "tmpls", "css")} for k, m in models.items()}
    return {"notes": notes, "models": models, "decks": names}


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("anki")
    return read_deck(build_deck(ROOT / "content", tmp), tmp), load_kit(ROOT / "content")


def test_one_note_per_question_in_a_subdeck_of_its_topic(full):
    deck, kit = full
    assert len(deck["notes"]) == len(kit.questions) == 169
    for t in kit.topics:
        for q in t.questions:
            note = deck["notes"][q.card_id]
            assert note["deck"] == f"Python Interview::{t.position:02d} {t.title}"
            assert note["tags"] == {f"topic::{t.slug}", f"difficulty::{q.difficulty}"}
            assert note["guid"] == note_guid(q.number)
            assert note["mid"] == MODEL_ID
    assert "Python Interview" in deck["decks"].values()
    assert deck_id(None) in deck["decks"]


def test_fields_hold_the_front_and_every_part_of_the_back(full):
    deck, kit = full
    q = kit.question(42)
    front, back = deck["notes"]["Q42"]["fields"][1:]
    assert "Explain the LEGB rule in Python scope." in front
    assert "UnboundLocalError" in front and "font-weight: bold" in front   # highlighted code
    assert "UnboundLocalError</pre>" in back    # the card sample's output
    for point in q.key_points + q.pitfalls:
        assert point.split("`")[0] in back
    assert "Handbook, " in back
    for note in deck["notes"].values():
        assert all(f.strip() for f in note["fields"])


def test_a_code_front_shows_each_versions_output_on_its_back(full):
    deck, kit = full
    # Q2's card sample prints different numbers before and from 3.12 (immortal objects).
    back = deck["notes"]["Q2"]["fields"][2]
    assert back.count('class="output"') >= 2 and "Python &gt;=3.12" in back


def test_identities_stay_across_builds_and_an_edit(bank, tmp_path):
    first = read_deck(build_deck(bank, tmp_path / "a"), tmp_path)
    again = read_deck(build_deck(bank, tmp_path / "b"), tmp_path)
    assert first == again
    p = bank / "01-alpha/003-sky.toml"
    p.write_text(p.read_text().replace("Rayleigh scattering", "Rayleigh's scattering"))
    edited = read_deck(build_deck(bank, tmp_path / "c"), tmp_path)
    assert {k: n["guid"] for k, n in edited["notes"].items()} == \
        {k: n["guid"] for k, n in first["notes"].items()}
    changed = [k for k in first["notes"] if first["notes"][k] != edited["notes"][k]]
    assert changed == ["Q3"]
    assert "Rayleigh&#39;s scattering" in edited["notes"]["Q3"]["fields"][2]
    assert edited["models"].keys() == first["models"].keys() == {str(MODEL_ID)}
    assert edited["decks"] == first["decks"]


def test_text_is_escaped_and_code_styled_inline(bank, tmp_path):
    p = bank / "01-alpha/002-print.toml"
    p.write_text(p.read_text().replace(
        'summary = "It writes', 'summary = "<script>alert(1)</script> & <b>It</b> writes'))
    deck = read_deck(build_deck(bank, tmp_path), tmp_path)
    back = deck["notes"]["Q2"]["fields"][2]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;It&lt;/b&gt;" in back
    assert "<script" not in back and "<b>" not in back
    front = deck["notes"]["Q2"]["fields"][1]
    assert "<span style=" in front and 'class="' not in front.split("<pre")[1].split(">", 1)[1]


def test_built_with_the_other_outputs(bank, run, tmp_path):
    result = run(bank, "anki")
    assert result.exit_code == 0, result.output
    assert "anki built in" in result.output and "(3 notes in 2 topic decks)" in result.output
    assert "3 notes in 2 topic decks under" in \
        (tmp_path / "output" / "build-report.txt").read_text("utf-8")
    assert run(bank, "anki").output.count("up to date") == 1
    p = bank / "01-alpha/003-sky.toml"
    p.write_text(p.read_text().replace("Rayleigh scattering", "Rayleigh's scattering"))
    assert "wrote" in run(bank, "anki").output


def test_two_builds_with_source_date_epoch_give_the_same_bytes(bank, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    first = build_deck(bank, tmp_path / "a").read_bytes()
    time.sleep(2.1)   # past the zip format's 2-second resolution: the clock must not show
    assert build_deck(bank, tmp_path / "b").read_bytes() == first
    with zipfile.ZipFile(tmp_path / "a" / FILE_NAME) as z:
        assert sorted(z.namelist()) == ["collection.anki2", "media"]
        assert z.read("media") == b"{}"
