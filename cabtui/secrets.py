"""Masking secrets in data shown to the user. No Textual, no rich here.

Two ways a secret is found:

- by its name: a value under a key (an env variable, an attr, a ``name=value`` or
  ``name: value`` in text, a ``--flag value``) whose name says secret: KEY, TOKEN, SECRET,
  PASSWORD, PASSWD, PASSPHRASE, PAT, AUTH, AUTHORIZATION, CREDENTIAL(S), COOKIE. Counts are not
  secrets: ``prompt_tokens``, ``max_tokens``, ``token_count``, ``tokens_source`` and the like are
  never masked, and neither is a number, a boolean or null;
- by its form, wherever it appears: ``Authorization: Basic|Bearer ...``, ``Cookie:`` and
  ``X-Api-Key:`` headers, credentials in URLs (``https://user:pass@host``), ``curl -u
  user:pass``, PEM private key blocks, JWTs, and the token formats of common services (OpenAI
  ``sk-``, Stripe ``sk_live_``, GitHub ``ghp_``/``github_pat_``, GitLab ``glpat-``, Google
  ``AIza``, Hugging Face ``hf_``, npm ``npm_``, Slack ``xoxb-``, AWS ``AKIA``, PyPI ``pypi-``).

:func:`find_secrets` gives the character ranges of the secret values in a text;
:func:`mask_text` replaces each with :data:`MASK`; :func:`mask` does the same through any JSON
value, by name and by form.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "••••••"

# -- names ------------------------------------------------------------------------------------

_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# a word part that makes a name secret (parts are lower case; GH_PAT -> gh, pat)
_SECRET_PARTS = frozenset(
    "key apikey privatekey secretkey accesskey signingkey masterkey clientkey authkey "
    "sessionkey encryptionkey token accesstoken authtoken refreshtoken apitoken idtoken "
    "bottoken secret secrets clientsecret password passwords passwd passphrase pat auth "
    "oauth authorization authentication authn credential credentials creds cookie cookies "
    "setcookie".split()
)  # fmt: skip
# a part that makes a secret-looking name name something else: a count, a kind, a place
_NOT_SECRET_PARTS = frozenset(
    "tokens count counts max min num number limit limits usage budget total prompt completion "
    "input output cached reasoning per type types kind method methods mode scheme provider "
    "providers required enabled disabled url uri urls endpoint endpoints file files path paths "
    "dir name names len length size source sources estimate used remaining hits id ids env "
    "keys header headers format expiry expires expired ttl rotation algorithm algo".split()
)  # fmt: skip
_LOWER_SECRET = re.compile(
    r"(?:api|private|secret|access|signing|master|client|auth|session|encryption)key"
    r"|(?:access|auth|refresh|api|id|bot|session|bearer)token|password|passwd|passphrase|secret"
)


def _parts(name: str) -> list[str]:
    return [p.lower() for p in _PARTS.findall(name)]


def is_secret_name(name: str) -> bool:
    """Whether a value under ``name`` is a secret: ``OPENAI_API_KEY``, ``GH_PAT``, ``apiKey``,
    ``Authorization``, ``client_secret``; not ``prompt_tokens``, ``keyword_hits``, ``author``,
    ``monkey``, ``max_tokens``, ``token_count``, ``env_keys``."""
    parts = _parts(name)
    if not parts or any(p in _NOT_SECRET_PARTS for p in parts):
        return False
    return any(p in _SECRET_PARTS or _LOWER_SECRET.fullmatch(p) for p in parts)


_PASSWORDISH = re.compile(r"(?i)pass(?:word|wd|phrase)|secret|pin\b")
_SCALAR = re.compile(r"(?i)-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|true|false|null|none|nil|undefined")


def _value_is_secret(name: str, value: str) -> bool:
    """A text value under a secret name: anything but a number, a boolean or null (a number is
    kept unless the name is a password's)."""
    if not value.strip() or value == MASK:
        return False
    if _SCALAR.fullmatch(value.strip()):
        return bool(_PASSWORDISH.search(name)) and value.strip()[:1].isdigit()
    return True


# -- forms ------------------------------------------------------------------------------------

_PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<v>[\s\S]*?)"
    r"(?=-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)"
)
_SCHEMES = r"(?i:Basic|Bearer|Token|Digest|Negotiate|NTLM|ApiKey|Key|OAuth|AWS4-HMAC-SHA256|Splunk)"
_SCHEME = re.compile(_SCHEMES)
# a header whose whole value is secret, to the end of the line (or of the quoted string)
_HEADER = re.compile(
    r"(?im)(?<![\w-])(?P<name>(?:Proxy-)?Authori[sz]ation|(?:Set-)?Cookie|"
    r"[\w-]{0,40}?(?:Api-?Key|Auth-?Token|Access-?Token|Secret|Session-?Token|Auth)[\w-]{0,40})"
    r"[ \t]*:[ \t]*(?:" + _SCHEMES + r"[ \t]+)?(?P<v>[^\r\n\"'`]+)"
)
# a bearer token anywhere (not a word: it holds a digit or punctuation, or is long)
_BEARER = re.compile(
    r"(?i)(?<![\w-])Bearer[ \t]+(?P<v>(?=[\w.~+/=-]*[0-9.~+/=-])[\w.~+/=-]{8,}|[\w.~+/=-]{20,})"
)
_URL_CREDENTIALS = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]{0,20}://(?P<user>[^\s:/@'\"<>]{1,256}):(?P<v>[^\s/@'\"<>]{1,256})@"
)
_CURL_USER = re.compile(
    r"(?<![\w-])(?:-u|--user|--proxy-user)(?:[ \t]+|=)[\"']?(?P<user>[^\s:\"']{0,256}):(?P<v>[^\s\"']{1,256})"
)
_TOKENS = re.compile(
    r"(?<![A-Za-z0-9_-])(?P<v>"
    r"sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}"
    r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_-]{16,}"
    r"|AIza[0-9A-Za-z_-]{30,}"
    r"|hf_[A-Za-z0-9]{20,}"
    r"|npm_[A-Za-z0-9]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|pypi-[A-Za-z0-9_-]{40,}"
    r"|eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*"
    r")"
)
# every form above needs one of these: most text (a model name, a task id) is passed at once
_MAYBE = re.compile(
    r"[:=@]|(?i:bearer)|-----BEGIN|(?<![\w.-])--?[A-Za-z_]|sk-|(?:sk|rk|pk)_|gh[pousr]_"
    r"|github_pat_|glpat-|AIza|hf_|npm_|xox|xapp-|AKIA|ASIA|pypi-|eyJ"
)
# name=value, name: value, "name": "value", --name value, --name=value
_NAMED = re.compile(
    r"(?P<name>(?<![\w.-])(?P<flag>--?)?[A-Za-z_][\w.-]{0,80})(?P<q>\\?[\"']?)"
    r"(?:[ \t]*(?::|=>?)[ \t]*|(?(flag)[ \t]+(?=[^\s-])|(?!)))"
    r"(?:(?P<qv>\\?[\"'])(?P<quoted>(?:(?!(?P=qv)).){0,1024})(?P=qv)|(?P<bare>[^\s,;&'\"<>(){}\[\]`\x00-\x1f\x7f-\x9f]{1,512}))"
)

_BARE_END = re.compile(r"[^\s,;&'\"<>(){}\[\]`\x00-\x1f\x7f-\x9f]*")


def _named(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = 0
    while (m := _NAMED.search(text, pos)) is not None:
        group = "quoted" if m.group("qv") else "bare"
        pos = m.start(group)  # a rejected value is searched too (url=https://h/?token=x)
        name, value = m.group("name"), m.group(group)
        if m.group("flag") and m.group("q"):
            continue
        if not is_secret_name(name.lstrip("-")) or _SCHEME.fullmatch(value):
            continue  # after a scheme (Authorization: Basic ...) the header rule masks
        if _value_is_secret(name, value):
            end = m.end(group)
            if group == "bare":  # the pattern reads at most 512 characters: mask them all
                end = _BARE_END.match(text, end).end()  # type: ignore[union-attr]  # _BARE_END matches the empty string, so it always matches
            out.append((m.start(group), end))
            pos = end
    return out


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# terminal escapes (CSI, OSC, two-byte ESC, C1 CSI): a secret may be written around them
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
)


def find_secrets(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` character ranges of the secret values in ``text``, sorted, merged
    where they overlap. The names around them (``Authorization: Bearer``, ``password=``, the
    user in ``user:pass@``, the PEM BEGIN and END lines) are left out of the ranges. In text
    with terminal escapes, secrets are also looked for in the text without them (a range then
    spans the escapes inside the secret)."""
    if not text:
        return []
    ranges = _find(text)
    if "\x1b" in text or "\x9b" in text:
        kept: list[int] = []
        at = 0
        for m in _ESCAPES.finditer(text):
            kept.extend(range(at, m.start()))
            at = m.end()
        kept.extend(range(at, len(text)))
        plain = "".join(text[i] for i in kept)
        ranges.extend((kept[s], kept[e - 1] + 1) for s, e in _find(plain) if e > s)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _find(text: str) -> list[tuple[int, int]]:
    if not _MAYBE.search(text):
        return []
    ranges: list[tuple[int, int]] = []
    for pattern in (_PEM, _HEADER, _BEARER, _URL_CREDENTIALS, _CURL_USER, _TOKENS):
        for m in pattern.finditer(text):
            if pattern is _HEADER and (
                not is_secret_name(m.group("name")) or not _value_is_secret("", m.group("v"))
            ):
                continue
            ranges.append(_strip(text, m.start("v"), m.end("v")))
    ranges.extend(_named(text))
    return ranges


def mask_text(text: str) -> str:
    """``text`` with each secret value replaced by :data:`MASK`."""
    ranges = find_secrets(text)
    if not ranges:
        return text
    parts: list[str] = []
    at = 0
    for start, end in ranges:
        parts.append(text[at:start])
        parts.append(MASK)
        at = end
    parts.append(text[at:])
    return "".join(parts)


_FLAG = re.compile(r"^--?(?P<name>[A-Za-z][\w-]*)$")
_USER_FLAG = re.compile(r"^(?:-u|--user|--proxy-user)$")


def mask(value: Any, name: str = "") -> Any:
    """A copy of ``value`` (any JSON value) with secrets masked.

    Text under a secret-looking name is masked whole (every string inside it, for a list or an
    object); in lists, the item after a flag like ``--api-key`` is masked (after ``-u``, the
    password of ``user:pass``); every string is scanned by :func:`mask_text`. Numbers, booleans
    and null are never masked.
    """
    return _mask(value, bool(name) and is_secret_name(name), name)


def _mask(value: Any, hide: bool, name: str = "") -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if hide and _value_is_secret(name, value):
            return MASK
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask(v, hide or is_secret_name(str(k)), str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        out: list[Any] = []
        after: str | None = None
        for item in value:
            if after is not None and isinstance(item, str) and not item.startswith("-"):
                if after == "user" and ":" in item:
                    user = item.split(":", 1)[0]
                    out.append(f"{user}:{MASK}")
                else:
                    out.append(MASK)
                after = None
                continue
            after = None
            if isinstance(item, str):
                if _USER_FLAG.match(item):
                    after = "user"
                elif (m := _FLAG.match(item)) and is_secret_name(m.group("name")):
                    after = "secret"
            out.append(_mask(item, hide, name))
        return out
    return value
