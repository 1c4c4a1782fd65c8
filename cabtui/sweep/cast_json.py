"""JSON within the limits (:mod:`cabtui.sweep.cast_limits`): the nesting depth of a header,
document or event checked before and after parsing, and the event of a line cut at the size
bound salvaged with its data cut there.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cabtui.sweep.cast_limits import MAX_DEPTH


def too_deep(text: str) -> bool:
    """Whether the JSON ``text`` nests deeper than MAX_DEPTH, without parsing it: brackets
    inside strings do not count (escaped quotes and backslashes are removed first, then every
    other quote opens or closes a string)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    outside = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2])
    depth = 0
    for ch in outside:
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def depth_over(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON value nests deeper than ``limit``."""
    level = [value]  # the values at one depth (value itself at depth 1)
    for _ in range(limit):
        level = [v for x in level if isinstance(x, (list, dict))
                 for v in (x.values() if isinstance(x, dict) else x)]  # fmt: skip
        if not level:
            return False
    return any(isinstance(x, (list, dict)) for x in level)


def load_json(text: str) -> Any:
    """json.loads of a header or document, None when it is not JSON or nests too deep."""
    if too_deep(text):
        raise DeepError
    try:
        return json.loads(text)
    except RecursionError:
        raise DeepError from None
    except ValueError:
        return None


class DeepError(Exception):
    pass


_TRUNCATED_EVENT = re.compile(r'\s*\[\s*([-+0-9.eE]+)\s*,\s*"([a-z])"\s*,\s*"(.*)\Z', re.DOTALL)


def salvage(text: str) -> list[Any] | None:
    """The ``[time, code, data]`` of an event line cut at the size bound, its data cut where the
    line was; None when the cut line is not the start of such an event."""
    m = _TRUNCATED_EVENT.match(text)
    if m is None:
        return None
    body = m.group(3)
    for back in range(8):  # the cut may split an escape (\\, \uXXXX)
        try:
            data = json.loads(f'"{body[: len(body) - back]}"')
        except ValueError:
            continue
        try:
            stamp = float(m.group(1))
        except ValueError:
            return None
        return [stamp, m.group(2), data]
    return None
