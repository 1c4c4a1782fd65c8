#!/usr/bin/env python3
"""Record real terminal sessions with asciinema and build the bundled sample sweep from them.

    python3 scripts/make_recordings.py record [NAME...]   # recordings/*.cast + recordings/*.phases.json
    python3 scripts/make_recordings.py sweep              # data/sweeps/recorded-20261123/ from those
    python3 scripts/make_recordings.py check              # replay the casts through cabtui, print screens
    python3 scripts/make_recordings.py all                # record + sweep + check

How a recording is made
-----------------------
Each session runs `asciinema rec` (the 2.4 python package in .venv) inside a detached tmux
session of a fixed size, on a private tmux server (`tmux -L cabrec-<pid>`), so the recorded
programs get a real pty.  The driver types into the pane with `tmux send-keys`, one character at
a time with short sleeps, and waits for the shell to come back: the shell's PROMPT_COMMAND (set
in a generated rc file, so it is not visible in the recording) appends "<count> <exit status>" to
a file the driver polls.  The environment is fixed (`env -i`, TERM=xterm-256color, LANG=C.UTF-8,
a fixed prompt, a throw-away HOME), content is generated deterministically; what still varies
between takes is timing, `top`'s process list and the header timestamp.

Markers: asciinema 2.4 has no default marker hotkey, but it reads `add_marker_key` from its
config file ([record] add_marker_key = C-t here, written to a private ASCIINEMA_CONFIG_HOME).
The driver presses that key (tmux send-keys C-t) at each phase boundary, so asciinema itself
writes the `m` events.  asciinema 2.4 writes markers with an empty label; after the recording
ends this script fills in each marker's label (the phase name) -- that is the only
post-processing of the event stream.

Resizes: asciinema 2.4 records SIGWINCH as an `r` event when it is not run with --cols/--rows.
colors-wide.cast is recorded without them and the driver runs `tmux resize-window` mid-session,
so the `r` event and the programs' reaction to it are both real.  (tmux ignores the xterm
`\\e[8;<rows>;<cols>t` resize request, so that route does not work here.)  The other recordings
pass --cols/--rows equal to the tmux window size.

Phases log: recordings/<name>.phases.json holds every key sequence the driver sent and every
shell command with its start/end time *on the recording's clock*.  The driver's wall-clock times
are mapped to the recording's clock with the markers (asciinema timestamps the marker when it
reads the key; the driver logged when it sent it); a command's end is the time of the first
output event after it that contains the shell prompt.  The sweep builder uses this log to time
spans and model calls.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REC_DIR = ROOT / "recordings"
SWEEP_ID = "recorded-20261123"
SWEEP_DIR = ROOT / "data" / "sweeps" / SWEEP_ID
ASCIINEMA = ROOT / ".venv" / "bin" / "asciinema"
PROMPT_TAG = "agent@sandbox"
PS1 = r"\[\e[1;32m\]agent@sandbox\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]$ "
MARKER_KEY = "C-t"  # asciinema add_marker_key; tmux sends it as byte 0x14
TMUX_SOCKET = f"cabrec-{os.getpid()}"


# --------------------------------------------------------------------------- the driver


def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["tmux", "-u", "-L", TMUX_SOCKET, "-f", "/dev/null", *args],
                          check=check, capture_output=True, text=True)


@dataclass
class Session:
    name: str
    cols: int = 100
    rows: int = 30
    fixed_size: bool = True  # pass --cols/--rows to asciinema (False: follow the tmux window)
    title: str = ""
    project: str = "project"  # the working directory, ~/<project>
    work: Path = field(init=False)
    log: list = field(default_factory=list)
    prompts_seen: int = 0

    def __post_init__(self) -> None:
        # fixed paths, so that paths printed in the recording are the same on every take
        self.base = Path(tempfile.gettempdir()) / "cabrec" / self.name
        shutil.rmtree(self.base, ignore_errors=True)
        self.work = self.base / "home" / self.project
        self.work.mkdir(parents=True)
        self.cast_tmp = self.base / f"{self.name}.cast"
        self.prompt_file = self.base / "prompts"
        self.session = f"rec-{self.name}"

    # -- set-up -----------------------------------------------------------------------------
    def start(self) -> None:
        cfg = self.base / "asciinema-config"
        cfg.mkdir()
        (cfg / "config").write_text(f"[record]\nadd_marker_key = {MARKER_KEY}\n")
        rc = self.base / "bashrc"
        rc.write_text(textwrap.dedent(f"""\
            PS1='{PS1}'
            HISTFILE=/dev/null
            __n=0
            PROMPT_COMMAND='__s=$?; __n=$((__n+1)); echo "$__n $__s" >> {self.prompt_file}'
            """))
        env = {
            "PATH": f"{Path.home()}/.cargo/bin:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.base / "home"),
            "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", f"{Path.home()}/.rustup"),
            "CARGO_HOME": os.environ.get("CARGO_HOME", f"{Path.home()}/.cargo"),
            "CARGO_TARGET_DIR": str(self.base / "target"),
            "RUSTUP_AUTO_INSTALL": "0",
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "SHELL": "/bin/bash",
            "USER": "agent",
            "LESSHISTFILE": "-",
            "PYTHONDONTWRITEBYTECODE": "1",
            "ASCIINEMA_CONFIG_HOME": str(cfg),
            "TZ": "UTC",
        }
        size = ["--cols", str(self.cols), "--rows", str(self.rows)] if self.fixed_size else []
        rec = [str(ASCIINEMA), "rec", "--overwrite", "-q", "-t", self.title or self.name,
               "-e", "SHELL,TERM", *size,
               "-c", f"bash --noprofile --rcfile {rc} -i", str(self.cast_tmp)]
        cmd = "env -i " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + \
              " ".join(shlex.quote(a) for a in rec)
        tmux("new-session", "-d", "-s", self.session, "-x", str(self.cols), "-y", str(self.rows),
             "-c", str(self.work), cmd)
        tmux("set-option", "-t", self.session, "status", "off")
        self.before = snapshot(self.work)
        self.wait_prompt()

    # -- input ------------------------------------------------------------------------------
    def _log(self, kind: str, **kw) -> None:
        self.log.append({"wall": time.time(), "kind": kind, **kw})

    def marker(self, label: str) -> None:
        self._log("marker", label=label)
        tmux("send-keys", "-t", self.session, MARKER_KEY)
        time.sleep(0.15)

    def keys(self, *keys: str, label: str = "", literal: bool = False, pause: float = 0.5,
             per_char: float = 0.04) -> None:
        """Send keys (tmux key names, or literal text typed one character at a time)."""
        self._log("keys", label=label, keys=list(keys), literal=literal)
        for k in keys:
            if literal:
                for ch in k:
                    # a lone ";" would end the tmux command: escape it
                    tmux("send-keys", "-t", self.session, "-l", "\\;" if ch == ";" else ch)
                    time.sleep(per_char)
            else:
                tmux("send-keys", "-t", self.session, k)
                time.sleep(0.05)
        time.sleep(pause)

    def run(self, command: str, kind: str = "shell", think: float = 1.2, wait: bool = True,
            timeout: float = 60) -> None:
        """Type a shell command, press Enter, wait for the prompt to come back."""
        time.sleep(think)  # the agent "thinks": model calls are placed in this gap
        self._log("cmd_start", command=command, span_kind=kind)
        self.keys(command, literal=True, pause=0.1)
        self._log("enter", command=command)
        tmux("send-keys", "-t", self.session, "Enter")
        if wait:
            self.wait_prompt(timeout)
            self._log("cmd_end", command=command)

    def wait_prompt(self, timeout: float = 60) -> int:
        want = self.prompts_seen + 1
        end = time.time() + timeout
        while time.time() < end:
            if self.prompt_file.exists():
                lines = self.prompt_file.read_text().split("\n")
                lines = [l for l in lines if l.strip()]
                if len(lines) >= want:
                    self.prompts_seen = len(lines)
                    time.sleep(0.3)
                    return int(lines[-1].split()[1])
            time.sleep(0.05)
        raise TimeoutError(f"{self.name}: no prompt after {timeout}s\n" + self.screen())

    def wait_screen(self, text: str, timeout: float = 20) -> None:
        end = time.time() + timeout
        while time.time() < end:
            if text in self.screen():
                time.sleep(0.2)
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.name}: {text!r} not on screen\n" + self.screen())

    def screen(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.session, check=False).stdout

    def resize(self, cols: int, rows: int) -> None:
        self._log("resize", size=f"{cols}x{rows}")
        tmux("resize-window", "-t", self.session, "-x", str(cols), "-y", str(rows))
        time.sleep(0.6)

    # -- finish -----------------------------------------------------------------------------
    def finish(self) -> tuple[Path, Path]:
        time.sleep(0.8)
        tmux("send-keys", "-t", self.session, "-l", "exit")
        time.sleep(0.2)
        tmux("send-keys", "-t", self.session, "Enter")
        end = time.time() + 20
        while time.time() < end and tmux("has-session", "-t", self.session, check=False).returncode == 0:
            time.sleep(0.1)
        time.sleep(0.3)
        exit_codes = [int(l.split()[1]) for l in self.prompt_file.read_text().split("\n") if l.strip()]
        REC_DIR.mkdir(exist_ok=True)
        out = REC_DIR / f"{self.name}.cast"
        phases = postprocess(self.cast_tmp, out, self.log, exit_codes)
        # what the session changed in its working directory (for the sweep's blast_radius)
        after = snapshot(self.work)
        phases["workdir"] = str(self.work)
        phases["added"] = sorted(set(after) - set(self.before))
        phases["removed"] = sorted(set(self.before) - set(after))
        phases["modified"] = sorted(f for f in after if f in self.before and after[f] != self.before[f])
        shutil.rmtree(self.base, ignore_errors=True)
        phases_path = REC_DIR / f"{self.name}.phases.json"
        phases_path.write_text(json.dumps(phases, indent=1, ensure_ascii=False) + "\n")
        return out, phases_path


def snapshot(work: Path) -> dict:
    return {str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(work.rglob("*")) if p.is_file()}


def load_cast_json(path: Path) -> tuple[dict, list]:
    """A raw recording's header and events as JSON, to be rewritten (reading for playback is
    cabtui's reader, cabtui.sweep.asciicast)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(l) for l in lines[1:] if l.strip()]


def dump_cast_json(path: Path, header: dict, events: list) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(header) + "\n")
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")


def postprocess(raw: Path, out: Path, log: list, exit_codes: list) -> dict:
    """Label markers, map the driver's log onto the recording's clock, find command ends."""
    header, events = load_cast_json(raw)
    markers = [i for i, e in enumerate(events) if e[1] == "m"]
    sent = [x for x in log if x["kind"] == "marker"]
    if len(markers) != len(sent):
        raise RuntimeError(f"{raw}: {len(markers)} marker events for {len(sent)} marker keys sent")
    # wall clock -> recording clock: the median of (sent - recorded) over all markers
    offset = statistics.median(s["wall"] - events[i][0] for s, i in zip(sent, markers))
    for s, i in zip(sent, markers):
        events[i][2] = s["label"]
    dump_cast_json(out, header, events)

    def rec_t(wall: float) -> float:
        return round(max(0.0, wall - offset), 6)

    outputs = [(e[0], e[2]) for e in events if e[1] == "o"]
    steps, commands = [], []
    for x in log:
        t = rec_t(x["wall"])
        if x["kind"] == "cmd_start":
            commands.append({"command": x["command"], "kind": x["span_kind"], "start": t})
        elif x["kind"] == "enter":
            commands[-1]["enter"] = t
        elif x["kind"] == "cmd_end":
            c = commands[-1]
            after = [k for k, (ot, od) in enumerate(outputs) if ot > c["enter"] and PROMPT_TAG in od]
            k_end = after[0] if after else len(outputs)
            c["end"] = round(outputs[k_end][0], 6) if after else t
            # output of the command itself: everything between the Enter and the prompt
            c["output"] = "".join(od for ot, od in outputs[:k_end] if ot > c["enter"])
            if after:  # the prompt's event may also carry the command's last bytes
                c["output"] += outputs[k_end][1].split("\x1b[1;32m" + PROMPT_TAG)[0]
        elif x["kind"] in ("keys", "marker", "resize"):
            step = {"t": t, "kind": x["kind"]}
            step.update({k: v for k, v in x.items() if k not in ("wall", "kind")})
            steps.append(step)
    # exit status of each command, from PROMPT_COMMAND (the first line is the initial prompt)
    for c, code in zip(commands, exit_codes[1:]):
        c["exit_code"] = code
    duration = events[-1][0] if events else 0.0
    return {
        "recording": out.name,
        "cols": header["width"], "rows": header["height"],
        "timestamp": header.get("timestamp"),
        "duration_s": round(duration, 6),
        "clock_offset_note": "times are seconds on the recording's clock (event time)",
        "markers": [{"t": events[i][0], "label": events[i][2]} for i in markers],
        "resizes": [{"t": e[0], "size": e[2]} for e in events if e[1] == "r"],
        "steps": steps,
        "commands": commands,
    }


# --------------------------------------------------------------------------- the sessions

RETRY_RS = """\
//! Retry a fallible operation a bounded number of times.

#[derive(Debug, PartialEq)]
pub enum RetryError<E> {
    NoAttempts,
    GaveUp { attempts: u32, last: E },
}

/// Calls `op(attempt)` until it succeeds or `max_attempts` attempts were made.
pub fn retry<T, E>(
    max_attempts: u32,
    mut op: impl FnMut(u32) -> Result<T, E>,
) -> Result<T, RetryError<E>> {
    if max_attempts == 0 {
        return Err(RetryError::NoAttempts);
    }
    let mut attempt = 1;
    loop {
        let result = op(attempt);
        let done = result.is_err() || attempt == max_attempts;
        if done {
            return result.map_err(|last| RetryError::GaveUp { attempts: attempt, last });
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_attempt_ok_returns_immediately() {
        let mut calls = 0;
        let r: Result<i32, RetryError<&str>> = retry(5, |_| { calls += 1; Ok(7) });
        assert_eq!(r, Ok(7));
        assert_eq!(calls, 1);
    }

    #[test]
    fn retries_on_error_until_success() {
        let r = retry(5, |n| if n < 3 { Err("busy") } else { Ok(42) });
        assert_eq!(r, Ok(42));
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let r: Result<i32, _> = retry(3, |_| Err("down"));
        assert_eq!(r, Err(RetryError::GaveUp { attempts: 3, last: "down" }));
    }

    #[test]
    fn zero_max_attempts_errors() {
        let r: Result<i32, RetryError<&str>> = retry(0, |_| Ok(1));
        assert_eq!(r, Err(RetryError::NoAttempts));
    }
}
"""

CARGO_TOML = """\
[package]
name = "retry"
version = "0.1.0"
edition = "2021"

[dependencies]
"""


def make_crate(work: Path) -> None:
    (work / "src").mkdir()
    (work / "Cargo.toml").write_text(CARGO_TOML)
    (work / "src" / "lib.rs").write_text(RETRY_RS)


def rec_cargo(name: str, fix: str, title: str) -> None:
    s = Session(name, title=title, project="retry")
    make_crate(s.work)
    s.start()
    s.marker("inspect")
    s.run("ls -R", think=0.8)
    s.run("grep -n 'done =' src/lib.rs", kind="tool_call")
    s.marker("cargo test (failing)")
    s.run("cargo test --offline", kind="test", think=1.5)
    s.marker("edit src/lib.rs")
    s.run(f"sed -i.orig '{fix}' src/lib.rs", kind="edit", think=2.0)
    s.run("diff -u --color=always src/lib.rs.orig src/lib.rs; rm src/lib.rs.orig", kind="tool_call")
    label = "cargo test (passing)" if "is_ok" in fix else "cargo test (still failing)"
    s.marker(label)
    s.run("cargo test --offline", kind="test", think=1.5)
    s.finish()


PRICING_PY = '''\
"""Order pricing helpers."""


def subtotal(items):
    return sum(qty * price for qty, price in items)


def apply_discount(amount, percent):
    if not 0 <= percent <= 100:
        raise ValueError(f"bad discount: {percent}")
    return round(amount * (100 - percent) / 100, 2)


def shipping(amount):
    # free shipping from 50.00 upwards
    return 0 if amount > 50 else 4.95
'''

TEST_PRICING_PY = '''\
import unittest

from pricing import apply_discount, shipping, subtotal


class PricingTest(unittest.TestCase):
    def test_subtotal(self):
        self.assertEqual(subtotal([(2, 3.5), (1, 10)]), 17.0)

    def test_discount(self):
        self.assertEqual(apply_discount(80, 25), 60.0)

    def test_discount_rejects_bad_percent(self):
        with self.assertRaises(ValueError):
            apply_discount(10, 120)

    def test_free_shipping_threshold(self):
        self.assertEqual(shipping(49.99), 4.95)
        self.assertEqual(shipping(50), 0)


if __name__ == "__main__":
    unittest.main()
'''


def rec_python(name: str, fix: bool) -> None:
    s = Session(name, title="python unittest" + (" + fix" if fix else ""), project="shop")
    (s.work / "pricing.py").write_text(PRICING_PY)
    (s.work / "test_pricing.py").write_text(TEST_PRICING_PY)
    s.start()
    s.marker("inspect")
    s.run("ls", think=0.8)
    s.marker("unittest (failing)")
    s.run("python3 -m unittest -v test_pricing", kind="test")
    if fix:
        s.marker("edit pricing.py")
        s.run("sed -i 's/amount > 50/amount >= 50/' pricing.py", kind="edit", think=2.0)
        s.marker("unittest (passing)")
        s.run("python3 -m unittest -v test_pricing", kind="test")
    else:
        s.run("echo exit=$?", think=0.5)
    s.finish()


GREET_PY = '''\
"""Greeting helpers used by the CLI."""
import sys


def greet(name):
    return f"Hello, {name}!"


def farewell(name):
    return f"Goodbye, {name}."


def main(argv):
    name = argv[1] if len(argv) > 1 else "world"
    print(greet(name))
    print(farewell(name))


if __name__ == "__main__":
    main(sys.argv)
'''

VIMRC = """\
set nocompatible
set noswapfile nobackup nowritebackup viminfo=
set number ruler showcmd laststatus=2 showmode
set tabstop=4 shiftwidth=4 expandtab
filetype plugin indent on
syntax on
"""


def rec_vim() -> None:
    s = Session("vim-edit", title="vim: edit greet.py", project="greeter")
    (s.work / "greet.py").write_text(GREET_PY)
    (s.base / "home" / ".vimrc").write_text(VIMRC)
    s.start()
    s.marker("open greet.py in vim")
    s.run("vim greet.py", kind="edit", wait=False, think=0.8)
    s.wait_screen("greet.py")
    time.sleep(0.8)
    s.keys("4", "j", label="move to def greet()", pause=0.6)
    s.keys("o", label="insert a docstring", pause=0.3)
    s.keys('"""Return the greeting for *name*."""', literal=True, pause=0.3)
    s.keys("Escape", pause=0.6)
    s.keys("j", "A", label="append a comment", pause=0.3)
    s.keys("  # used by main()", literal=True, pause=0.3)
    s.keys("Escape", pause=0.6)
    s.marker("visual select + :s")
    s.keys("/", label="search def main", pause=0.2)
    s.keys("def main", literal=True, pause=0.2)
    s.keys("Enter", pause=0.6)
    s.keys("V", "j", "j", "j", label="visual select main()", pause=0.8)
    s.keys(":", label=":s substitution over the selection", pause=0.4)
    s.keys("s/name/who/g", literal=True, pause=0.3)
    s.keys("Enter", pause=1.0)
    s.marker("save and quit")
    s.keys(":wq", literal=True, label=":wq", pause=0.3)
    s.keys("Enter", pause=0.2)
    s.wait_prompt()
    s._log("cmd_end", command="vim greet.py")
    s.run("python3 greet.py cabtui", kind="test")
    s.finish()


def build_log_text() -> str:
    levels = ["INFO", "INFO", "INFO", "DEBUG", "INFO", "WARN", "INFO", "INFO", "DEBUG", "INFO"]
    comps = ["scheduler", "worker-1", "worker-2", "cache", "http", "db"]
    lines = []
    t0 = datetime(2026, 11, 23, 8, 0, 0, tzinfo=timezone.utc)
    for i in range(1, 401):
        lvl = "ERROR" if i % 67 == 0 else levels[(i * 7) % len(levels)]
        comp = comps[(i * 5) % len(comps)]
        ts = (t0 + timedelta(seconds=i * 3.7)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        msg = {
            "ERROR": f"job {1000 + i} failed: connection reset by peer (attempt {i % 4 + 1})",
            "WARN": f"slow response from upstream: {120 + (i * 37) % 900} ms",
            "DEBUG": f"cache lookup key=k{i:04d} hit={'yes' if i % 3 else 'no'}",
        }.get(lvl, f"processed batch {i} ({(i * 13) % 97 + 3} items)")
        lines.append(f"{ts}Z {lvl:<5} [{comp:<9}] {msg}")
    return "\n".join(lines) + "\n"


def rec_less_top() -> None:
    s = Session("less-top", title="less + top", project="logs")
    (s.work / "service.log").write_text(build_log_text())
    s.start()
    s.marker("less service.log")
    s.run("less -N service.log", kind="tool_call", wait=False, think=0.8)
    s.wait_screen("service.log")
    time.sleep(0.8)
    s.keys("Space", label="page down", pause=0.8)
    s.keys("Space", label="page down", pause=0.8)
    s.keys("/", label="search ERROR", pause=0.3)
    s.keys("ERROR", literal=True, pause=0.3)
    s.keys("Enter", pause=1.0)
    s.keys("n", label="next match", pause=1.0)
    s.keys("n", label="next match", pause=1.0)
    s.keys("G", label="end of file", pause=1.0)
    s.keys("g", label="start of file", pause=0.8)
    s.keys("q", label="quit less", pause=0.2)
    s.wait_prompt()
    s._log("cmd_end", command="less -N service.log")
    s.marker("top")
    s.run("top -d 1", kind="tool_call", wait=False, think=1.0)
    s.wait_screen("load average")
    time.sleep(3.3)
    s.keys("q", label="quit top", pause=0.2)
    s.wait_prompt()
    s._log("cmd_end", command="top -d 1")
    s.finish()


COLORS_PY = r'''"""Print terminal colour and wide-character test patterns."""
import os
import sys

ESC = "\x1b"
cols = os.get_terminal_size().columns


def c256():
    print(f"{ESC}[1m256-colour palette{ESC}[0m")
    for row in range(16):
        line = ""
        for col in range(16):
            n = row * 16 + col
            fg = 16 if n in (7, 10, 11, 14, 15) or (n > 15 and (n - 16) % 36 >= 18) or n > 243 else 15
            line += f"{ESC}[48;5;{n}m{ESC}[38;5;{fg}m{n:4d}{ESC}[0m"
        print(line)


def truecolor():
    print(f"{ESC}[1mtrue colour (24-bit){ESC}[0m")
    width = min(cols, 96)
    for band in ((1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0)):
        line = ""
        for i in range(width):
            v = int(255 * i / (width - 1))
            r, g, b = (v * k for k in band)
            line += f"{ESC}[48;2;{r};{g};{b}m "
        print(line + f"{ESC}[0m")


def wide():
    print(f"{ESC}[1mwide characters{ESC}[0m (terminal is {cols} columns)")
    print("CJK:   漢字テスト 中文字符 한국어 全角ＡＢＣ")
    print("emoji: ✅ ❌ 🚀 🦀 🐍 📦 🔥 👍🏽 🇳🇴")
    print("box:   ┌──────┬──────┐  ╔══╗  ▁▂▃▄▅▆▇█")
    print("       │ 通過 │ 失敗 │  ║ok║  ░▒▓█")
    print("       └──────┴──────┘  ╚══╝")
    print("ruler: " + "".join(str(i % 10) for i in range(1, cols - 6)))


for part in sys.argv[1:] or ["256", "true", "wide"]:
    {"256": c256, "true": truecolor, "wide": wide}[part]()
'''


def rec_colors() -> None:
    s = Session("colors-wide", fixed_size=False, title="colours and wide characters",
                project="colours")
    (s.work / "colors.py").write_text(COLORS_PY)
    s.start()
    s.marker("256 colours")
    s.run("python3 colors.py 256", think=0.8)
    s.marker("true colour + wide characters")
    s.run("clear; python3 colors.py true wide", think=1.5)
    s.marker("resize to 80x24")
    time.sleep(1.5)
    s.resize(80, 24)
    s.run("stty size; python3 colors.py wide", think=1.0)
    s.finish()


SESSIONS = {
    "cargo-fix": lambda: rec_cargo("cargo-fix", "s/result.is_err() ||/result.is_ok() ||/",
                                   "cargo test: fail, fix, pass"),
    "cargo-wrong-fix": lambda: rec_cargo("cargo-wrong-fix",
                                         "s/attempt == max_attempts/attempt >= max_attempts/",
                                         "cargo test: fail, wrong fix, still failing"),
    "python-unittest": lambda: rec_python("python-unittest", fix=False),
    "python-unittest-fix": lambda: rec_python("python-unittest-fix", fix=True),
    "vim-edit": rec_vim,
    "less-top": rec_less_top,
    "colors-wide": rec_colors,
}


def record(names: list[str]) -> None:
    try:
        for name in names or list(SESSIONS):
            print(f"recording {name} ...", flush=True)
            SESSIONS[name]()
            p = REC_DIR / f"{name}.cast"
            print(f"  {p.relative_to(ROOT)}: {p.stat().st_size} bytes", flush=True)
    finally:
        tmux("kill-server", check=False)


# --------------------------------------------------------------------------- the sweep

WEIGHTS = {"pass_rate": 0.40, "integrity": 0.20, "cost": 0.15, "latency": 0.15, "blast_radius": 0.10}
LATENCY_REF_MS = 10000
LLAMA = "meta/llama-4-maverick-17b-128e-instruct"
QWEN = "qwen/qwen3-coder-480b-a35b-instruct"
IMAGES = {"aider": "codingagentbench/aider:v0.86.0", "pi": "codingagentbench/pi:v0.73.1",
          "opencode": "codingagentbench/opencode:v1.15.10"}
FAKE_KEY = "sk-test-not-a-real-key-1234"

# recording -> (tui, model, task_id, run, prompt, files the task is expected to change)
RUNS = [
    ("cargo-fix", "aider", LLAMA, "polyglot/rust-fix-failing-test", 1,
     "The retry tests fail: retry() retries on success and gives up on error. Fix src/lib.rs.",
     ["src/lib.rs"]),
    ("cargo-wrong-fix", "aider", LLAMA, "polyglot/rust-fix-failing-test", 2,
     "The retry tests fail: retry() retries on success and gives up on error. Fix src/lib.rs.",
     ["src/lib.rs"]),
    ("python-unittest", "pi", LLAMA, "polyglot/python-shipping-threshold", 1,
     "Orders of exactly 50.00 must ship free. Make the pricing tests pass.", ["pricing.py"]),
    ("python-unittest-fix", "pi", LLAMA, "polyglot/python-shipping-threshold", 2,
     "Orders of exactly 50.00 must ship free. Make the pricing tests pass.", ["pricing.py"]),
    ("vim-edit", "opencode", QWEN, "mutations/python-rename-parameter", 1,
     "Document greet() and rename main()'s local `name` to `who`.", ["greet.py"]),
    ("less-top", "opencode", LLAMA, "polyglot/log-triage", 1,
     "Find the ERROR lines in service.log and check the machine's load.", []),
    ("colors-wide", "pi", QWEN, "polyglot/terminal-colour-check", 1,
     "Check that the terminal renders 256 colours, true colour and wide characters.", []),
]

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07")
CARGO_STDERR_RE = re.compile(r"^\s*(Building|Compiling|Finished|Running|Doc-tests|error:|warning:)")


def sid(*parts) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "cabtui/" + "/".join(map(str, parts))).hex


def plain(text: str) -> str:
    return ANSI_RE.sub("", text).replace("\r\n", "\n").replace("\r", "")


def tails(command: str, output: str) -> tuple[str, str]:
    """Split a command's pty output into (stdout_tail, stderr_tail) as the grader would see them.

    The pty merges the streams; cargo writes its own status lines (Compiling, Finished, Running,
    error: ...) to stderr and libtest writes results to stdout; python's unittest writes everything
    to stderr.  ANSI colour is kept."""
    text = output.replace("\x1b[?2004l", "").replace("\x1b[?2004h", "")
    text = text.replace("\r\n", "\n").lstrip("\r\n")
    if command.startswith("cargo"):
        out, err = [], []
        for line in text.split("\n"):
            (err if CARGO_STDERR_RE.match(plain(line)) else out).append(line)
        return "\n".join(out), "\n".join(err)
    if "unittest" in command:
        return "", text
    return text, ""


def tokens_of(text: str) -> int:
    return max(1, len(text) // 4)


def composite(pass_, integrity, wall_ms, blast) -> tuple[float, dict]:
    """The run's composite and its components, by cabtui's formula (cabtui.scoring) with this
    sweep's weights (no refusal axis here: its factor is 1)."""
    from cabtui.scoring import Weights, components
    from cabtui.scoring import composite as total

    c = components(pass_=pass_, integrity=integrity, wall_clock_ms=wall_ms, blast_radius=blast,
                   refusal=None, refusal_not_applicable=None,
                   weights=Weights(**WEIGHTS, latency_ref_ms=LATENCY_REF_MS))
    comps = {"cost_efficiency": c.cost_efficiency, "latency_efficiency": c.latency_efficiency,
             "clean_blast": c.clean_blast, "refusal_factor": c.refusal_factor}
    return total(c), comps


def build_run(spec, sweep_runs: Path) -> dict:
    rec, tui, model, task, run_no, prompt, expected = spec
    phases = json.loads((REC_DIR / f"{rec}.phases.json").read_text())
    cell = f"{SWEEP_ID}/{tui}/{model}/{task}" + (f"#run{run_no}" if run_no > 1 else "")
    family = task.split("/")[0]
    rec_ms = phases["duration_s"] * 1000
    setup_ms, C = 12.0, 13.0  # task_setup, then the container starts at t = C ms
    started = datetime.fromtimestamp(phases["timestamp"], tz=timezone.utc) - timedelta(milliseconds=C)
    end_ms = C + rec_ms + 1.0
    commands = phases["commands"]
    workdir = phases["workdir"]

    spans, calls = [], []
    adapter_id, container_id = sid(cell, "adapter"), sid(cell, "container")
    argv_tui = {
        "aider": ["aider", "--yes-always", "--no-stream", "--no-pretty", "--model", f"openai/{model}",
                  "--openai-api-base", "http://172.17.0.1:31415/v1", "--message", prompt],
        "pi": ["pi", "--api-key", FAKE_KEY, "--print", "--no-session", "--provider", "nim",
               "--model", model, prompt],
        "opencode": ["opencode", "run", "--model", f"nim/{model}", prompt],
    }[tui]
    container_attrs = {"image": IMAGES[tui], "argv": argv_tui, "timeout_s": 600,
                       "recording": "recording.cast", "cols": phases["cols"], "rows": phases["rows"]}
    if tui == "pi":
        container_attrs["env"] = {"OPENAI_API_KEY": "sk-proj-test-not-a-real-key-5678",
                                  "TERM": "xterm-256color"}

    # model calls: one before each command, in the "thinking" gap before it was typed
    messages = [{"role": "system", "content": f"You are {tui}, a coding agent. Work in {workdir}. "
                 "Reply with one shell command per turn as JSON: {\"tool\": \"bash\", \"command\": ...}."},
                {"role": "user", "content": prompt}]
    prev_end = 0.0
    model_ms = 0.0
    child_spans = []
    for i, c in enumerate(commands):
        gap_start, gap_end = prev_end, c["start"]
        lat = max(0.05, (gap_end - gap_start) * 0.8)
        t_call = gap_end - lat - 0.05
        completion = json.dumps({"tool": "bash", "command": c["command"]})
        req = json.dumps(messages, sort_keys=True)
        call = {"seq": i + 1,
                "timestamp": (started + timedelta(milliseconds=C + t_call * 1000)).isoformat(
                    timespec="milliseconds").replace("+00:00", "Z"),
                "request_hash": "sha256:" + hashlib.sha256(req.encode()).hexdigest(),
                "prompt": [dict(m) for m in messages], "completion": completion,
                "prompt_tokens": tokens_of(req), "completion_tokens": tokens_of(completion),
                "latency_ms": round(lat * 1000, 1), "finish_reason": "stop", "model": model}
        calls.append(call)
        model_ms += call["latency_ms"]
        child_spans.append({"span_id": sid(cell, "model", i), "parent_id": container_id,
                            "kind": "model_call", "name": f"chat.completions #{i + 1}",
                            "start_ms": round(C + t_call * 1000, 1),
                            "duration_ms": call["latency_ms"],
                            "attrs": {"model": model, "seq": i + 1,
                                      "prompt_tokens": call["prompt_tokens"],
                                      "completion_tokens": call["completion_tokens"]},
                            "error": None})
        messages.append({"role": "assistant", "content": completion})
        out = plain(c.get("output", "")).strip("\n")
        if len(out) > 1500:
            out = "...\n" + out[-1500:]
        messages.append({"role": "tool", "content": f"exit={c.get('exit_code')}\n{out}"})
        cmd_id = sid(cell, "cmd", i)
        attrs = {"argv": shlex.split(c["command"].split(";")[0]) if ";" not in c["command"]
                 else ["bash", "-c", c["command"]],
                 "cwd": workdir, "exit_code": c.get("exit_code"),
                 "recording_t": [round(c["start"], 3), round(c["end"], 3)]}
        child_spans.append({"span_id": cmd_id, "parent_id": container_id, "kind": c["kind"],
                            "name": c["command"], "start_ms": round(C + c["start"] * 1000, 1),
                            "duration_ms": round((c["end"] - c["start"]) * 1000, 1),
                            "attrs": attrs,
                            "error": None if not c.get("exit_code") else f"exit status {c['exit_code']}"})
        # key sequences sent to a full-screen program while this command ran
        for j, st in enumerate(x for x in phases["steps"] if x["kind"] == "keys"
                               and c["enter"] < x["t"] < c["end"] and x.get("label")):
            child_spans.append({"span_id": sid(cell, "keys", i, j), "parent_id": cmd_id,
                                "kind": "tool_call", "name": f"keys: {st['label']}",
                                "start_ms": round(C + st["t"] * 1000, 1), "duration_ms": 0.0,
                                "attrs": {"keys": st["keys"]}, "error": None})
        prev_end = c["end"]

    last_test = [c for c in commands if c["kind"] == "test"] or commands
    grader = last_test[-1]
    stdout_tail, stderr_tail = tails(grader["command"], grader.get("output", ""))
    stdout_tail, stderr_tail = stdout_tail[-4000:], stderr_tail[-4000:]  # tails, as the grader keeps
    pass_ = 1 if grader.get("exit_code") == 0 else 0
    container_ms = round(rec_ms, 3)
    spans = [
        {"span_id": sid(cell, "setup"), "parent_id": None, "kind": "task_setup",
         "name": f"prepare:{task}", "start_ms": 0.0, "duration_ms": setup_ms,
         "attrs": {"workdir": workdir, "task_category": family, "plugin_stack": [],
                   "behavior_mode": "factory"}, "error": None},
        {"span_id": adapter_id, "parent_id": None, "kind": "adapter_run", "name": f"{tui}:{task}",
         "start_ms": setup_ms, "duration_ms": round(end_ms - setup_ms, 3),
         "attrs": {"timeout_s": 600, "plugin_stack": [], "exit_code": 0}, "error": None},
        {"span_id": sid(cell, "plugins"), "parent_id": adapter_id, "kind": "tool_call",
         "name": "applied_plugins", "start_ms": setup_ms, "duration_ms": 0.0,
         "attrs": {"tui": tui, "count": 0, "applied": [], "env_keys": ["OPENAI_API_KEY"] if tui == "pi" else [],
                   "extra_args": [], "applied_count": 0, "skipped_count": 0}, "error": None},
        {"span_id": container_id, "parent_id": adapter_id, "kind": "container", "name": f"{tui}:launch",
         "start_ms": C, "duration_ms": container_ms,
         "attrs": {**container_attrs, "exit_code": 0, "duration_s": round(rec_ms / 1000, 6),
                   "timed_out": False}, "error": None},
        *child_spans,
        {"span_id": sid(cell, "cleanup"), "parent_id": None, "kind": "cleanup", "name": f"cleanup:{tui}",
         "start_ms": round(end_ms, 3), "duration_ms": 0.0, "attrs": {}, "error": None},
    ]

    # blast radius from the files the recorded session really changed
    changed = {"modified": sorted(x for x in phases.get("modified", [])),
               "added": sorted(phases.get("added", [])), "removed": sorted(phases.get("removed", []))}
    total = sorted(set(changed["modified"]) | set(changed["added"]) | set(changed["removed"]))
    unexpected = [f for f in total if f not in expected]
    blast = len(unexpected) / len(total) if total else 0.0
    value, comps = composite(pass_, 1, end_ms, blast)
    ptok = sum(c["prompt_tokens"] for c in calls)
    ctok = sum(c["completion_tokens"] for c in calls)
    record = {
        "cell_id": cell, "sweep_id": SWEEP_ID, "container_image": IMAGES[tui], "image_digest": None,
        "model_build_id": model, "exit_code": 0,
        "started_at": started.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "ended_at": (started + timedelta(milliseconds=end_ms)).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "tokens": {"prompt_tokens": ptok, "completion_tokens": ctok, "source": "model_calls.jsonl"},
        "note": f"Recorded locally from real programs ({rec}.cast), not a benchmark run: the terminal "
                "session and its command timings are real, the agent's model calls are illustrative.",
        "scores": {
            "pass_rate": {"pass": pass_, "exit_code": grader.get("exit_code"), "timed_out": False,
                          "stdout_tail": stdout_tail, "stderr_tail": stderr_tail, "partial_score": None},
            "tokens": {"prompt_tokens": ptok, "completion_tokens": ctok, "total_tokens": ptok + ctok,
                       "model_calls": len(calls),
                       "tokens_per_correct_task": (ptok + ctok) if pass_ else 0,
                       "pass_used_for_division": pass_},
            "latency": {"wall_clock_ms": end_ms, "container_active_ms": container_ms,
                        "model_call_ms": round(model_ms, 1)},
            "blast_radius": {"blast_radius": blast, **{k: changed[k] for k in ("added", "removed", "modified")},
                             "unexpected_changes": unexpected,
                             "expected_changes": [f for f in expected if f in total],
                             "total_changes": len(total), "extra_git_dir": False},
            "refusal": {"refusal": 0, "not_applicable": True, "expected_refusal": False,
                        "refusal_produced": False, "refusal_correct": None, "marker_hits": [],
                        "keyword_hits": []},
            "integrity": {"integrity": 1, "not_applicable": True, "task_id": task},
            "composite": {"composite": value, "weights": {"pass_rate": 0.4, "integrity": 0.2, "cost": 0.15,
                                                          "latency": 0.15, "blast_radius": 0.1},
                          "components": {"pass_rate": pass_, "integrity": 1, "blast_radius": blast,
                                         "tokens_per_correct_task": (ptok + ctok) if pass_ else 0,
                                         "wall_clock_ms": end_ms, "expected_refusal": False,
                                         "refusal_produced": False, **comps},
                          "note": "Single-cell composite, recomputed with the formula in SWEEP_FORMAT.md; "
                                  "cost_efficiency is 1 (its formula is unknown)."},
        },
    }
    run_dir = sweep_runs / tui / model / task / f"run-{run_no}"
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REC_DIR / f"{rec}.cast", run_dir / "recording.cast")
    with open(run_dir / "spans.jsonl", "w") as f:
        for s in spans:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    with open(run_dir / "model_calls.jsonl", "w") as f:
        for c in calls:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    return record


def build_sweep() -> None:
    if SWEEP_DIR.exists():
        shutil.rmtree(SWEEP_DIR)
    SWEEP_DIR.mkdir(parents=True)
    (SWEEP_DIR / "sweep.json").write_text(json.dumps({
        "sweep_id": SWEEP_ID, "methodology_version": "0.1", "snapshot_date": "2026-11-23",
        "composite_weights": WEIGHTS, "latency_ref_ms": LATENCY_REF_MS,
        "description": "Sample sweep whose runs were recorded locally from real programs (cargo test, "
                       "python unittest, vim, less, top, a colour test) under asciinema in tmux; these are "
                       "not benchmark runs. Command spans are timed from the recordings; model calls are "
                       "illustrative. Regenerate with scripts/make_recordings.py.",
    }, indent=2) + "\n")
    records = [build_run(spec, SWEEP_DIR / "runs") for spec in RUNS]
    with open(SWEEP_DIR / "results.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    for r in records:
        print(r["cell_id"], "pass", r["scores"]["pass_rate"]["pass"],
              "composite %.4f" % r["scores"]["composite"]["composite"])


# --------------------------------------------------------------------------- checking


def screens(path: Path, times: list[float]) -> list[str]:
    """The visible screen at each of ``times``, played by cabtui's reader and terminal engine."""
    from cabtui.replay.engine import Player  # cabtui and avt: run with the .venv's python
    from cabtui.sweep.cast_reader import read_cast

    player = Player(read_cast(path))
    out = []
    for t in sorted(times):
        player.seek(t)
        screen = "\n".join(player.text()).rstrip("\n")
        out.append(f"--- {path.name} @ {t:.1f}s ---\n" + screen)
    return out


def check() -> None:
    for p in sorted(REC_DIR.glob("*.cast")):
        phases = json.loads(p.with_suffix(".phases.json").read_text())
        times = [c["end"] + 0.01 for c in phases["commands"]] + [phases["duration_s"] + 1]
        for s in phases["steps"]:
            if s["kind"] == "keys" and s.get("label"):
                times.append(s["t"] + 0.4)
        for scr in screens(p, times):
            print(scr.rstrip())



def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "all"
    if cmd in ("record", "all"):
        record(argv[2:] if cmd == "record" else [])
    if cmd in ("sweep", "all"):
        build_sweep()
    if cmd in ("check", "all"):
        check()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
