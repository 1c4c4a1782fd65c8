"""Masking secrets in data shown to the user: API keys in argv, bearer tokens, and env or attr
values whose names contain KEY, TOKEN, SECRET or PASSWORD. No Textual here."""

from __future__ import annotations

import re
from typing import Any

MASK = "••••••"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD", re.IGNORECASE)
_FLAG = re.compile(r"^--?[\w-]*(key|token|secret|password|passwd)[\w-]*$", re.IGNORECASE)
_PATTERNS = [
    # --api-key=VALUE / --token VALUE inside one string
    re.compile(r"(?i)(--?[\w-]*(?:key|token|secret|password|passwd)[\w-]*[= ])(\S+)"),
    re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=-]{6,})"),
    re.compile(r"(?i)(\b[\w]*(?:key|token|secret|password|passwd)[\w]*=)([^\s&]+)"),
    re.compile(
        r"()\b((?:sk|pk|rk)-[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{16,}|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})"
    ),
]


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def mask_text(text: str) -> str:
    """Mask secrets that appear inside free text."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def mask(value: Any, name: str = "") -> Any:
    """A copy of ``value`` (any JSON value) with secrets masked.

    Values under a secret-looking name are masked whole; in lists, the item after a flag like
    ``--api-key`` is masked; strings are scanned for keys and bearer tokens.
    """
    if value is None or isinstance(value, bool):
        return value
    if name and is_secret_name(name) and not isinstance(value, (dict, list)):
        return MASK
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        out: list[Any] = []
        hide_next = False
        for item in value:
            if hide_next and isinstance(item, str):
                out.append(MASK)
                hide_next = False
                continue
            hide_next = isinstance(item, str) and bool(_FLAG.match(item))
            out.append(mask(item))
        return out
    if isinstance(value, str):
        return mask_text(value)
    return value
