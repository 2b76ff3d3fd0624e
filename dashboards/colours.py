"""Colours that mean one thing, shared by the pages, the PDF and the Word bulletin.

红旗 is red and nothing else is; 蜗牛 has its own colour (amber-brown, the colour of a snail shell),
not red and not the grey used for "no flag"; trend lines and sample dots use the neutral palette.
"""

from __future__ import annotations

RED_FLAG = "#C0392B"
RED_FLAG_BG = "#FADBD8"
SNAIL = "#9C640C"
SNAIL_BG = "#FDEBD0"
NO_FLAG = "#AAB7B8"
VETO = "#6C3483"       # 否决: purple (a rule outcome, not a flag)
VETO_BG = "#EBDEF0"
TALK = "#1F618D"       # 约谈: dark blue
TALK_BG = "#D6EAF8"
NEAR = "#7D6608"       # 边界接近 / 并列: dark yellow on light yellow
NEAR_BG = "#FCF3CF"
GREY = "#7F8C8D"
# Neutral series colours (no red): trends, counts, sample dots.
SERIES = ["#2E86C1", "#28B463", "#D68910", "#17A589", "#7D3C98", "#566573", "#CA6F1E", "#5DADE2"]

FLAG_COLOURS = {"红旗": RED_FLAG, "蜗牛": SNAIL, "无": NO_FLAG}

# marker word -> (text colour, background)
MARKS = {
    "红旗": (RED_FLAG, RED_FLAG_BG),
    "蜗牛": (SNAIL, SNAIL_BG),
    "否决": (VETO, VETO_BG),
    "约谈": (TALK, TALK_BG),
    "边界接近": (NEAR, NEAR_BG),
    "并列": (NEAR, NEAR_BG),
    "单项": (NEAR, NEAR_BG),
    "问责": (VETO, VETO_BG),
    "告诫": (SNAIL, SNAIL_BG),
    "督办": (TALK, TALK_BG),
    "提醒": (GREY, "#F2F3F4"),
}


def mark_of(value: object) -> str | None:
    """The marker word a cell starts with ('否决、约谈' is coloured as 否决)."""
    if isinstance(value, str):
        for word in MARKS:
            if value.startswith(word):
                return word
    return None
