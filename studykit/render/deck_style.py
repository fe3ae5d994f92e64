"""The decks' look in numbers: slide size, fonts, type sizes and colours.

Fonts: Calibri for text and Courier New for code. Both ship with PowerPoint on Windows and macOS
and are offered by Google Slides; Impress substitutes Carlito and Liberation Mono, which share
their metrics. Consolas would look nicer but is missing on Macs without Office and has no free
metric twin to measure with.
"""

SLIDE_W, SLIDE_H = 12192000, 6858000
CODE_FONT = "Courier New"
BODY_MIN, CODE_MIN = 18, 14
FOOTER_PT = 14

# Size steps, largest first; the last one is the floor a box is set at before it continues.
TITLE_SIZES = (34, 30, 26, 22)
DECK_TITLE_SIZES = (48, 44, 40, 36, 32)
QUESTION_SIZES = (40, 36, 32, 28, 24)
BODY_SIZES = (24, 22, 20)
LIST_SIZES = (22, 20)
# An answer slide: at most this many key points, large enough to read from the back.
ANSWER_BULLETS = 4
ANSWER_SIZES = (28, 26, 24, 22)
DISCUSSION_PROMPTS = 3
# A deck sets all its code at one of these: the largest at which every sample fits its slide.
CODE_SIZES = tuple(range(22, CODE_MIN - 1, -1))
# A code slide's title is kept to one line, so the code has the room below it.
CODE_TITLE_SIZES = (26, 24, 22, 20)
# The code and output panels' text insets, points.
CODE_INSET_X, CODE_INSET_Y = 0.15 * 72, 0.1 * 72

MUTED = "5B6577"
CUE = "D9480F"
CODE_BG_TEXT = "E8ECF1"
# The same hues as the printed flashcards, so a level means the same colour everywhere.
BADGE = {"easy": "2E7D32", "medium": "1565C0", "hard": "E65100", "expert": "B71C1C"}
