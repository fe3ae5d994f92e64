"""Where code may break across slides: statement starts, comments kept with their statement."""

from studykit.render.code_runs import highlighted_lines
from studykit.render.code_split import split_code


def test_a_comment_moves_with_the_statement_it_introduces():
    code = "x = 1\ny = 2\n# about z\nz = 3\nw = 4\n"
    chunks = split_code(code, highlighted_lines(code), capacity=3)
    texts = [["".join(t for t, _ in ln) for ln in c] for c in chunks]
    assert texts == [["x = 1", "y = 2"], ["# about z", "z = 3", "w = 4"]]


def test_the_last_part_of_a_split_is_not_left_with_a_line():
    code = ("import os\n\nclass A:\n    x = 1\n    y = 2\n\ndef f():\n    return 1\n\n"
            "with open(os.devnull) as fh:\n    print(f(), file=fh)\n    print(A.x)\n\nprint('end')\n")
    lines = highlighted_lines(code)
    # Everything fits one slide but not with the output under it: one break, evenly placed.
    chunks = split_code(code, lines, capacity=len(lines), last_capacity=8)
    sizes = [len(c) for c in chunks]
    assert len(chunks) == 2 and min(sizes) >= 4, sizes
    # Longer than one slide, but two will do: still even, not a full slide and a stub.
    chunks = split_code(code, lines, capacity=len(lines) - 1, last_capacity=8)
    sizes = [len(c) for c in chunks]
    assert len(chunks) == 2 and min(sizes) >= 4, sizes
