"""HTML fragments kept between builds (studykit/render/fragments.py)."""

from __future__ import annotations

from markupsafe import Markup

from studykit.cachefile import read_cache_json, write_cache_json
from studykit.render.fragments import Fragments


def test_a_fragment_is_made_once_then_read_back_in_a_later_build(tmp_path):
    path = tmp_path / "fragments.json"
    made = []

    def make(text):
        made.append(text)
        return Markup("<b>{}</b>").format(text)

    first = Fragments(path)
    assert first.get("md", "a < b", lambda: make("a < b")) == Markup("<b>a &lt; b</b>")
    first.save()

    later = Fragments(path)
    got = later.get("md", "a < b", lambda: make("a < b"))
    assert got == Markup("<b>a &lt; b</b>") and isinstance(got, Markup)
    assert made == ["a < b"]
    # Another kind of fragment, or another text, is made afresh.
    later.get("code", "a < b", lambda: make("code"))
    later.get("md", "a < c", lambda: make("a < c"))
    assert made == ["a < b", "code", "a < c"]


def test_fragments_not_used_by_a_build_are_dropped_when_it_saves(tmp_path):
    path = tmp_path / "fragments.json"
    first = Fragments(path)
    first.get("md", "old answer", lambda: Markup("old"))
    first.get("md", "kept answer", lambda: Markup("kept"))
    first.save()

    second = Fragments(path)
    second.get("md", "kept answer", lambda: Markup("never made"))
    second.save()
    assert list(read_cache_json(path)["html"].values()) == ["kept"]


def test_fragments_from_another_version_of_the_kit_are_not_used(tmp_path):
    path = tmp_path / "fragments.json"
    first = Fragments(path)
    first.get("md", "text", lambda: Markup("from the old code"))
    first.save()
    data = read_cache_json(path)
    data["version"] = "an older kit"
    write_cache_json(path, data)

    assert Fragments(path).get("md", "text", lambda: Markup("new")) == Markup("new")


def test_an_unreadable_file_is_an_empty_cache(tmp_path):
    path = tmp_path / "fragments.json"
    path.write_text("{not json")
    fragments = Fragments(path)
    assert fragments.get("md", "text", lambda: Markup("made")) == Markup("made")
    fragments.save()
    assert read_cache_json(path)["html"]
