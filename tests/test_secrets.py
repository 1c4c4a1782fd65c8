"""The secrets masker: every form of secret is masked, ordinary text and counts are not, and
revealing shows them again."""

from __future__ import annotations

import pytest

from cabtui.secrets import MASK, find_secrets, is_secret_name, mask, mask_text
from cabtui.text import mask_lines, shown

# (text, the secret in it, text that must stay)
SECRETS = [
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "Authorization: Basic"),
    ("curl -H 'Authorization: Bearer abc.def123' https://x", "abc.def123", "https://x"),
    ("Bearer eyJhbGciOi.eyJzdWIiOi.sig-123", "eyJhbGciOi", "Bearer"),
    ("git clone https://alice:hunter2@github.com/x.git", "hunter2", "github.com/x.git"),
    ("password: x", ": x", "password"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI", "aws_secret_access_key"),
    ("push with glpat-abcdefghijklmnopqrst now", "glpat-abcdefghijklmnopqrst", "now"),
    ("key AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890", "key"),
    ("HF hf_abcdefghijklmnopqrstuvwxyz1234 ok", "hf_abcdefghijklmnopqrstuvwxyz1234", "ok"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijkl used", "github_pat_11ABCDEFG", "used"),
    ("stripe sk_live_abcdefghijklmnop", "sk_live_abcdefghijklmnop", "stripe"),
    ("npm_abcdefghijklmnopqrstuvwxyz0123456789 published", "npm_abcdefghij", "published"),
    ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890", "slack"),
    ("openai sk-proj-abcdefghijklmnop1234", "sk-proj-abcdefghijklmnop1234", "openai"),
    ("github ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijkl", "github"),
    ("aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "aws"),
    (
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9 end",
        "dozjgNryP4J3jVmNHl0w5N",
        "end",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nZmFrZWtleQ==\n-----END RSA PRIVATE KEY-----\n",
        "MIIEpAIBAAKCAQEA7",
        "-----END RSA PRIVATE KEY-----",
    ),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk", "b3BlbnNzaC1rZXk", "BEGIN OPENSSH"),
    ('{"api_key": "x", "other": 1}', '"x"', '"other": 1'),
    ('log: {\\"api_key\\": \\"abc\\"}', "abc", "api_key"),
    ("curl -u admin:s3cretpw https://api", "s3cretpw", "admin"),
    ("curl --user=admin:s3cretpw https://api", "s3cretpw", "admin"),
    ("X-Api-Key: abc123", "abc123", "X-Api-Key"),
    ("Cookie: sessionid=abc; csrftoken=def", "sessionid=abc", "Cookie"),
    ("Set-Cookie: sid=xyz789; HttpOnly", "sid=xyz789", "Set-Cookie"),
    ("GH_PAT=abcdef", "abcdef", "GH_PAT"),
    ("AUTH=xyz", "xyz", "AUTH"),
    ("CREDENTIALS=/tmp/c.json", "/tmp/c.json", "CREDENTIALS"),
    ("export OPENAI_API_KEY=foo", "foo", "export OPENAI_API_KEY"),
    ("pi --api-key sk-test-not-a-real-key-1234 --print", "sk-test", "--print"),
    ("run --password hunter2 --verbose", "hunter2", "--verbose"),
    ("GET /x?foo=1&access_token=abc123&b=2", "abc123", "&b=2"),
    ("DB_PASSWORD='p a s s'", "p a s s", "DB_PASSWORD"),
    ("password=123456", "123456", "password"),
    ("clientSecret: shhh", "shhh", "clientSecret"),
]


@pytest.mark.parametrize(("text", "secret", "kept"), SECRETS, ids=[s[1][:16] for s in SECRETS])
def test_each_form_of_secret_is_masked(text: str, secret: str, kept: str) -> None:
    out = mask_text(text)
    assert secret not in out
    assert MASK in out
    assert kept in out
    ranges = find_secrets(text)
    at = text.index(secret.strip(": '\""))
    assert any(start <= at < end for start, end in ranges)


@pytest.mark.parametrize(("text", "secret", "kept"), SECRETS, ids=[s[1][:16] for s in SECRETS])
def test_revealing_shows_each_secret(text: str, secret: str, kept: str) -> None:
    assert secret in shown(text, reveal=True).replace("\ufffd", "\n")
    assert secret not in shown(text, reveal=False).replace("\ufffd", "\n")


ORDINARY = [
    "tokens: 1234",
    "prompt_tokens: 1400",
    "completion_tokens=617 total_tokens=2017",
    "max_tokens=100 --max-tokens 20",
    "token_count=5",
    "keyword_hits: []",
    "monkey=banana",
    "author: John Smith",
    "authored by: someone",
    "the Basic configuration",
    "Bearer authentication is used",
    "env_keys=[]",
    "keys: move to def greet()",
    "git add -u",
    "python -u x.py",
    "running 4 tests\ntest tests::zero_max_attempts_errors ... ok",
    "test result: ok. 4 passed; 0 failed; finished in 0.00s",
    "sha256:f2cd27890475900f9cb617b1c7a6328989a48e8168e7280ac2247a5d2d26d8a1",
    "meta/llama-4-maverick-17b-128e-instruct",
    "https://github.com/org/repo.git",
    "password: true",
    "token: null",
    "api_key: ",
    "git@github.com:org/repo.git",
    "task-abcdefghijklmnopqrstuvwxyz",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_not_masked(text: str) -> None:
    assert mask_text(text) == text
    assert find_secrets(text) == []


def test_secret_names_and_counts() -> None:
    for name in ("OPENAI_API_KEY", "GH_PAT", "GITHUB_PAT", "apiKey", "Authorization", "AUTH",
                 "client_secret", "DB_PASSWORD", "passwd", "CREDENTIALS", "Cookie", "x-api-key",
                 "accessToken", "HF_TOKEN", "aws_secret_access_key"):  # fmt: skip
        assert is_secret_name(name), name
    for name in ("prompt_tokens", "completion_tokens", "total_tokens", "max_tokens",
                 "tokens_source", "tokens_per_correct_task", "token_count", "keyword_hits",
                 "author", "authors", "monkey", "keys", "env_keys", "keyboard", "pass",
                 "pass_rate", "PWD", "path", "token_type", "auth_method"):  # fmt: skip
        assert not is_secret_name(name), name


def test_mask_keeps_numbers_and_counts_and_masks_by_name() -> None:
    value = {
        "prompt_tokens": 1400,
        "tokens": {"prompt_tokens": 1, "completion_tokens": 2, "source": "TUI stdout"},
        "OPENAI_API_KEY": "sk-proj-abc",
        "HF_TOKEN": "anything",
        "token": 5,
        "api_key": True,
        "password": None,
        "credentials": {"user": "alice", "pw": "x"},
        "argv": ["pi", "--api-key", "k1", "-u", "bob:pw2", "--max-tokens", "100"],
        "env_keys": ["OPENAI_API_KEY"],
        "keys": ["4", "j"],
        "note": "ran with Authorization: Bearer abc123def",
    }
    out = mask(value)
    assert out["prompt_tokens"] == 1400
    assert out["tokens"] == value["tokens"]
    assert out["OPENAI_API_KEY"] == MASK and out["HF_TOKEN"] == MASK
    assert out["token"] == 5 and out["api_key"] is True and out["password"] is None
    assert out["credentials"] == {"user": MASK, "pw": MASK}
    assert out["argv"] == ["pi", "--api-key", MASK, "-u", f"bob:{MASK}", "--max-tokens", "100"]
    assert out["env_keys"] == ["OPENAI_API_KEY"] and out["keys"] == ["4", "j"]
    assert "abc123def" not in out["note"] and "Authorization: Bearer" in out["note"]
    assert value["OPENAI_API_KEY"] == "sk-proj-abc"  # a copy: the original is untouched


def test_mask_lines_keeps_lines_and_diff_markers() -> None:
    lines = ["--- a", "+++ b", "@@ -1,3 +1,3 @@", "+-----BEGIN PRIVATE KEY-----", "+QUJDRA==",
             "+-----END PRIVATE KEY-----", " token=abc", "-plain"]  # fmt: skip
    out = mask_lines(lines, diff=True)
    assert len(out) == len(lines)
    assert out[:4] == lines[:4] and out[5] == lines[5] and out[7] == lines[7]
    assert out[4] == "+" + MASK and out[6] == " token=" + MASK
    assert mask_lines(lines, reveal=True, diff=True) == lines


@pytest.mark.parametrize(
    "text",
    ["a=" * 20000, "http://" + "a:" * 20000, "X-Api-Key" * 5000, '"token": "' * 5000, "-" * 50000],
)
def test_hostile_text_is_scanned_in_bounded_time(text: str) -> None:
    import time

    start = time.perf_counter()
    mask_text(text)
    assert time.perf_counter() - start < 2.0


def test_secrets_written_around_terminal_escapes_are_masked() -> None:
    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    text = f"export GH_PAT=\x1b[0m{token} ok password=\x1b[1mhunter2\x1b[0m done \x1b]0;t\x07"
    out = mask_text(text)
    assert token not in out and "hunter2" not in out
    assert out.endswith(" done \x1b]0;t\x07") and "ok password=" in out


@pytest.mark.parametrize("text", ["\x1b" * 50000, "\x1b]" * 20000, "\x9b" * 50000])
def test_escape_floods_are_scanned_in_bounded_time(text: str) -> None:
    import time

    start = time.perf_counter()
    mask_text(text)
    assert time.perf_counter() - start < 2.0
