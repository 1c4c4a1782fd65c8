"""Benchmark of the replay layer on a synthetic 40-minute, ~12-million-character recording.

Run: .venv/bin/python bench/replay_bench.py [--seeks 300] [--keyframe-bytes N] [--keyframe-seconds S]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import avt

from cabtui.replay.engine import Player
from cabtui.replay.render import rich_rows
from cabtui.sweep.asciicast import format_cast
from cabtui.sweep.cast_reader import parse_cast

COLS, ROWS, MINUTES = 160, 40, 40


def compiler_burst(rnd: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        k = rnd.random()
        crate = f"crate-{rnd.randint(1, 999)}"
        if k < 0.7:
            out.append(f"\x1b[1;32m   Compiling\x1b[0m {crate} v0.{rnd.randint(0, 9)}.{rnd.randint(0, 30)}"
                       f" (/work/src/{crate})\r\n")  # fmt: skip
        elif k < 0.9:
            out.append(f"\x1b[1;33mwarning\x1b[0m: unused variable `x{rnd.randint(0, 99)}`\r\n"
                       f"  \x1b[1;34m-->\x1b[0m src/{crate}/lib.rs:{rnd.randint(1, 900)}:5\r\n")  # fmt: skip
        else:
            out.append(f"test {crate}::tests::case_{rnd.randint(0, 999)} ... "
                       f"\x1b[32mok\x1b[0m\r\n")  # fmt: skip
    return "".join(out)


def full_redraw(rnd: random.Random, frame: int, rows: range = range(1, ROWS + 1)) -> str:
    out = ["\x1b[?25l\x1b[H"]
    for r in rows:
        fg = rnd.randint(16, 231)
        bg = f"\x1b[48;2;{rnd.randint(0, 40)};{rnd.randint(0, 40)};{rnd.randint(20, 60)}m"
        body = f" {frame:6d} │ agent step {r:3d} ── {'▇' * rnd.randint(1, 40)} 中文 "
        out.append(f"\x1b[{r};1H{bg}\x1b[38;5;{fg}m{body:<{COLS}}\x1b[0m")
    out.append("\x1b[?25h")
    return "".join(out)


def make_recording(seed: int = 7) -> tuple[str, int]:
    rnd = random.Random(seed)
    events: list[tuple[float, str, str]] = []
    t, chars, frame, in_alt = 0.0, 0, 0, False
    end = MINUTES * 60.0
    step = end / 11_500
    while t < end:
        t += rnd.expovariate(1 / step)
        phase = int(t // 120) % 3  # two-minute phases: build, TUI, mixed
        if phase == 1 or (phase == 2 and rnd.random() < 0.3):
            if not in_alt or rnd.random() < 0.08:
                rows = range(1, ROWS + 1)
            else:  # a partial update: a few rows and the status line
                first = rnd.randint(1, ROWS - 3)
                rows = range(first, first + 3)
            data = ("" if in_alt else "\x1b[?1049h") + full_redraw(rnd, frame, rows)
            in_alt, frame = True, frame + 1
        else:
            data = ("\x1b[?1049l" if in_alt else "") + compiler_burst(rnd, rnd.randint(1, 4))
            in_alt = False
        events.append((t, "o", data))
        chars += len(data)
    return format_cast(COLS, ROWS, events, title="bench"), chars


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def replay_from_start(rec, t: float) -> None:
    vt = avt.Vt(rec.cols, rec.rows, scrollback_limit=1000)
    for ev in rec.events:
        if ev.time > t:
            break
        if ev.code == "o":
            vt.feed_str(ev.data)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeks", type=int, default=300)
    ap.add_argument("--baseline-seeks", type=int, default=30)
    ap.add_argument("--keyframe-bytes", type=int, default=262_144)
    ap.add_argument("--keyframe-seconds", type=float, default=5.0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    text, chars = make_recording()
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    rec = parse_cast(text.encode(), "bench.cast")
    read = time.perf_counter() - t0
    print(f"recording: {rec.duration / 60:.1f} min, {chars / 1e6:.2f} M chars, "
          f"{len(rec.events)} events, {COLS}x{ROWS} (generated {gen:.1f}s, read {read:.2f}s)")  # fmt: skip

    t0 = time.perf_counter()
    player = Player(rec, keyframe_seconds=args.keyframe_seconds, keyframe_bytes=args.keyframe_bytes)
    build = time.perf_counter() - t0
    rate = chars / build / 1e6
    mem = player.keyframe_bytes()
    print(f"keyframes: {len(player.keyframes)} (every {args.keyframe_bytes} chars "
          f"or {args.keyframe_seconds}s), {mem / 1e3:.0f} kB")  # fmt: skip

    rnd = random.Random(1)
    times = [rnd.uniform(0, rec.duration) for _ in range(args.seeks)]
    lat = []
    for t in times:
        s = time.perf_counter()
        player.seek(t)
        lat.append((time.perf_counter() - s) * 1e3)
    base = []
    for t in times[: args.baseline_seeks]:
        s = time.perf_counter()
        replay_from_start(rec, t)
        base.append((time.perf_counter() - s) * 1e3)
    ratio = statistics.mean(base) / statistics.mean(lat[: args.baseline_seeks])

    renders = []
    for t in times[:50]:
        player.seek(t)
        lines = player.lines()
        s = time.perf_counter()
        rich_rows(lines)
        renders.append((time.perf_counter() - s) * 1e3)

    results = [
        ("keyframe index build", f"{rate:.1f} M chars/s", ">= 10", rate >= 10),
        ("seek p50", f"{pct(lat, 50):.2f} ms", "", True),
        ("seek p99", f"{pct(lat, 99):.2f} ms", "< 20 ms", pct(lat, 99) < 20),
        (
            "replay-from-start seek mean",
            f"{statistics.mean(base):.1f} ms ({ratio:.0f}x slower than keyframed)",
            "",
            True,
        ),
        ("render 160x40 to rich Text p50", f"{pct(renders, 50):.2f} ms", "", True),
        (
            "render 160x40 to rich Text p99",
            f"{pct(renders, 99):.2f} ms",
            "< 8 ms",
            pct(renders, 99) < 8,
        ),
        (
            "keyframe memory",
            f"{100 * mem / chars:.2f} % of recording",
            "< 10 %",
            mem / chars < 0.10,
        ),
    ]
    for name, value, target, ok in results:
        verdict = ("PASS" if ok else "FAIL") if target else "    "
        print(f"{verdict}  {name:32s} {value:44s} {target}")
    return 0 if all(ok for *_, ok in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
