"""The cab-tui command line. Textual is imported lazily, inside the commands that open the UI."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(
    help="cabtui: browse, replay and compare CodingAgentBench sweeps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(emoji=False)
err = Console(stderr=True, emoji=False)  # arguments and data go out as Text, never markup

SAMPLE = Path(__file__).resolve().parent.parent / "data"


def _error(message: str, value: object, prefix: str = "error: ") -> None:
    """An error naming an argument or a text from the data: masked, made safe, never markup."""
    from rich.text import Text

    from cabtui.text import shown

    err.print(Text.assemble((prefix, "red"), message, shown(value)))


# Commands of each area are added below, one block per area.


@app.callback()
def _options(
    endpoint_url: str | None = typer.Option(
        None,
        "--endpoint-url",
        help="The S3 endpoint for s3:// URLs (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL).",
    ),
) -> None:
    """Options for every command."""
    import os

    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL_S3"] = endpoint_url


def _url(path: Path) -> str | None:
    """The URL of a published sweep given as PATH (s3://, http(s)://, file://), or None."""
    from cabtui.store.remote_io import from_path_text

    return from_path_text(str(path))


def _source(value: str | None) -> str | None:
    """A --source value, checked (exit 2 when it is none of cab, harbor, tb)."""
    from cabtui.sources.detect import SOURCES

    if value is not None and value not in SOURCES:
        _error("--source is one of cab, harbor, tb, inspect, not ", value)
        raise typer.Exit(2)
    return value


def _pass_scorer(value: str | None) -> None:
    """--pass-scorer: the Inspect scorer (``name`` or ``name.key``) that gives pass; it reaches
    the importer (and the cache fingerprint) through CABTUI_PASS_SCORER."""
    import os

    from cabtui.sources.inspect_map import PASS_SCORER_ENV

    if value:
        os.environ[PASS_SCORER_ENV] = value


_PASS_HELP = "Inspect logs: the scorer (NAME or NAME.KEY) that gives pass (default: the first)."


# -- data --------------------------------------------------------------------------------------
@app.command()
def load(
    path: Path = typer.Argument(..., help="A sweep directory, or a directory of sweeps."),
    refresh: bool = typer.Option(False, "--refresh", help="Rebuild the cache even if unchanged."),
    source: str | None = typer.Option(
        None, "--source", help="Read everything in DIR as one kind: cab, harbor, tb or inspect."
    ),
    pass_scorer: str | None = typer.Option(None, "--pass-scorer", help=_PASS_HELP),
) -> None:
    """Read a sweep into its DuckDB cache; report counts and every problem."""
    from cabtui.commands.data import load as run

    _pass_scorer(pass_scorer)
    run(path, refresh, _source(source))


@app.command()
def ls(
    path: Path = typer.Argument(..., help="A sweep directory, or a directory of sweeps."),
    filter_text: str = typer.Argument(
        "", metavar="[FILTER]", help="e.g. 'tui:aider pass:0 wall<10s'"
    ),
    by: str = typer.Option("run", "--by", help="run or cell."),
    sort: str | None = typer.Option(None, "--sort", help="Column to sort by."),
    desc: bool = typer.Option(False, "--desc", help="Sort descending."),
    limit: int = typer.Option(200, "--limit", min=0, help="At most this many rows."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
    reveal: bool = typer.Option(False, "--reveal-secrets", help="Do not mask secrets."),
    source: str | None = typer.Option(
        None, "--source", help="Read everything in DIR as one kind: cab, harbor, tb or inspect."
    ),
    pass_scorer: str | None = typer.Option(None, "--pass-scorer", help=_PASS_HELP),
) -> None:
    """List runs or cells matching a filter."""
    from cabtui.commands.data import ls as run

    _pass_scorer(pass_scorer)
    run(path, filter_text, by, sort, desc, limit, fmt, reveal, _source(source))


@app.command()
def show(
    path: Path = typer.Argument(..., help="A sweep directory, or a directory of sweeps."),
    cell_id: str = typer.Argument(..., help="A cell_id (or a unique part of one)."),
    fmt: str = typer.Option("text", "--format", help="text or json."),
    reveal: bool = typer.Option(False, "--reveal-secrets", help="Do not mask secrets."),
) -> None:
    """Every axis and key of one run, its identity and its spans."""
    from cabtui.commands.data import show as run

    run(path, cell_id, fmt, reveal)


@app.command()
def export(
    path: Path = typer.Argument(..., help="A sweep directory, or a directory of sweeps."),
    out: Path = typer.Argument(..., help="A new (or empty) directory to write the export into."),
    reveal: bool = typer.Option(False, "--reveal-secrets", help="Do not mask secrets."),
    source: str | None = typer.Option(
        None, "--source", help="Read everything in DIR as one kind: cab, harbor, tb or inspect."
    ),
) -> None:
    """Write a sweep as Parquet and a manifest, to publish (sync OUT to a bucket or a site)."""
    from cabtui.commands.publish import run

    run(path, out, reveal, _source(source))


@app.command()
def synth(
    out: Path = typer.Argument(..., help="Directory to write the sweep into."),
    runs: int = typer.Option(..., "--runs", help="Number of runs."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    spans: int | None = typer.Option(None, "--spans", help="Spans per run (default ~10)."),
    per_run: bool = typer.Option(False, "--per-run-files", help="Spans and calls in runs/*/."),
) -> None:
    """Write a deterministic synthetic sweep, for tests and benchmarks."""
    from cabtui.commands.data import synth as run

    run(out, runs, seed, spans, per_run)


@app.command()
def tail(
    path: Path = typer.Argument(..., help="A sweep directory, or a directory of sweeps."),
    filter_text: str = typer.Argument(
        "", metavar="[FILTER]", help="e.g. 'tui:aider pass:0 wall<10s'"
    ),
    fmt: str = typer.Option("json", "--format", help="json: one line per run."),
    interval: float = typer.Option(0.5, "--interval", help="Seconds between polls."),
    new_only: bool = typer.Option(False, "--new", help="Only runs that arrive from now on."),
    reveal: bool = typer.Option(False, "--reveal-secrets", help="Do not mask secrets."),
    source: str | None = typer.Option(
        None, "--source", help="Read everything in DIR as one kind: cab, harbor, tb or inspect."
    ),
) -> None:
    """Follow a sweep being written: print each run as it arrives (until interrupted)."""
    from cabtui.commands.tail import tail as run

    run(path, filter_text, fmt, interval, new_only, reveal, _source(source))


@app.command(name="open")
def open_(
    path: Path | None = typer.Argument(
        None, help="A sweep directory (default: the bundled sample)."
    ),
    refresh: bool = typer.Option(False, "--refresh", help="Rebuild the cache even if unchanged."),
    source: str | None = typer.Option(
        None, "--source", help="Read everything in DIR as one kind: cab, harbor, tb or inspect."
    ),
    pass_scorer: str | None = typer.Option(None, "--pass-scorer", help=_PASS_HELP),
    live: bool = typer.Option(
        True, "--live/--no-live", help="Follow the sweep on disk as runs arrive (L pauses)."
    ),
) -> None:
    """Browse a sweep in the terminal UI."""
    from cabtui.sources.inspect_map import looks_like_log
    from cabtui.store.live import Watcher
    from cabtui.store.store import Store
    from cabtui.ui.app import CabApp
    from cabtui.ui.screens.browser import BrowserScreen

    sweep = path or SAMPLE
    if path is not None and _url(path):
        from cabtui.store.remote import RemoteStore

        url = _url(path)
        CabApp(lambda progress: RemoteStore.open_url(str(url), progress), freeze_gc=True).run()
        return
    if not sweep.is_dir() and not (sweep.is_file() and looks_like_log(sweep)):
        _error("not a directory (nor an Inspect log): ", sweep)
        raise typer.Exit(2)
    kind = _source(source)
    _pass_scorer(pass_scorer)
    CabApp(
        lambda progress: Store.open(sweep, progress, refresh, kind),
        start=(lambda store: BrowserScreen(store, Watcher(store))) if live else None,
        freeze_gc=True,
    ).run()


# -- replay ------------------------------------------------------------------------------------
@app.command()
def frame(
    path: Path = typer.Argument(..., help="A recording.cast[.gz], or a sweep dir."),
    cell_id: str | None = typer.Argument(None, help="The run's cell_id, with a sweep dir."),
    at: float = typer.Option(..., "--at", help="Seconds into the recording."),
    fmt: str = typer.Option("text", "--format", help="text or svg."),
    reveal: bool = typer.Option(
        False, "--reveal-secrets", help="Show secrets on the screen instead of masking them."
    ),
) -> None:
    """Print the terminal screen of a recording at one moment."""
    from cabtui.commands.frame import run

    raise typer.Exit(run(path, cell_id, at, fmt, reveal=reveal))


@app.command()
def replay(
    path: Path = typer.Argument(..., help="A recording.cast[.gz], or a sweep dir."),
    cell_id: str | None = typer.Argument(
        None, help="The run's cell_id (or a unique part), with a sweep dir."
    ),
) -> None:
    """Replay a run (spans, terminal, model calls on one clock), or any recording."""
    if path.is_file() and not _url(path):
        from cabtui.ui.replay_app import ReplayApp

        ReplayApp(path).run()
        return
    if not (path.is_dir() or _url(path)) or cell_id is None:
        _error("give a recording file, or a sweep directory (or URL) and a cell_id: ", path)
        raise typer.Exit(2)
    from cabtui.commands.common import open_store
    from cabtui.ui.app import CabApp
    from cabtui.ui.screens.replay import ReplayScreen

    store = open_store(path)
    found = store.find(cell_id)
    if len(found) != 1:
        _error(f"{len(found) or 'no'} runs match ", repr(cell_id))
        for c in found:
            _error("", c, prefix="  ")
        raise typer.Exit(1)
    CabApp(lambda progress: store, start=lambda s: ReplayScreen(s, found[0]), freeze_gc=True).run()


# -- compare -----------------------------------------------------------------------------------
@app.command()
def diff(
    path: Path = typer.Argument(..., help="A sweep directory, or a directory of sweeps."),
    cell_a: str = typer.Argument(..., help="Run or cell A: a cell_id or a unique part of one."),
    cell_b: str = typer.Argument(..., help="Run or cell B."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    runs_only: bool = typer.Option(
        False, "--runs", help="Compare the first runs, even of cells with reruns."
    ),
    reveal: bool = typer.Option(False, "--reveal-secrets", help="Do not mask secrets."),
) -> None:
    """Two runs side by side (or two cells' reruns): axes, composite, spans, files, tails."""
    from cabtui.commands.compare import diff as run

    run(path, cell_a, cell_b, fmt, runs_only, reveal)


@app.command()
def compare(
    path: Path = typer.Argument(..., help="A sweep directory, or a directory of sweeps."),
    cell_a: str = typer.Argument(..., help="Run A: a cell_id or a unique part of one."),
    cell_b: str = typer.Argument(..., help="Run B."),
) -> None:
    """Open two runs side by side in the terminal UI."""
    from cabtui.commands.compare import resolve_pair
    from cabtui.store.remote import open_target
    from cabtui.ui.app import CabApp
    from cabtui.ui.screens.compare import CompareScreen

    a, b = resolve_pair(path, cell_a, cell_b)
    CabApp(
        lambda p: open_target(path, p), start=lambda s: CompareScreen(s, a, b), freeze_gc=True
    ).run()


@app.command()
def paired(
    path: Path = typer.Argument(..., help="A sweep directory, or a directory of sweeps."),
    dim: str = typer.Argument(..., help="tui or model: what X and Y are."),
    x: str = typer.Argument(..., help="A CLI (or model) name."),
    y: str = typer.Argument(..., help="Another CLI (or model) name."),
    fixed: list[str] = typer.Option([], "--fix", help="COLUMN=VALUE, e.g. model=meta/llama-4."),
    filter_text: str = typer.Option("", "--filter", help="Only runs matching this filter."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    seed: int = typer.Option(0, "--seed", help="Seed of the paired bootstrap."),
) -> None:
    """Two CLIs (or two models) over the tasks they share: sign test and paired bootstrap."""
    from cabtui.commands.compare import paired as run

    run(path, dim, x, y, fixed, filter_text, fmt, seed)


# -- cache -------------------------------------------------------------------------------------
cache_app = typer.Typer(
    help="The DuckDB caches of opened sweeps: list them, prune them.", no_args_is_help=True
)
app.add_typer(cache_app, name="cache")


@cache_app.command(name="ls")
def cache_ls(
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Each cache: its sweep's path, size, last use, and whether the sweep still exists."""
    from cabtui.commands.cache import ls as run

    run(fmt)


@cache_app.command(name="prune")
def cache_prune(
    everything: bool = typer.Option(False, "--all", help="Remove every cache."),
    older_than: float | None = typer.Option(
        None, "--older-than", min=0, metavar="DAYS", help="Also caches unused for DAYS days."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be removed."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Remove the caches whose sweep is gone (and temporary files of dead ingests)."""
    from cabtui.commands.cache import prune as run

    run(everything, older_than, dry_run, fmt)


def main() -> None:
    from cabtui.commands.cache import guarded

    guarded(app)


if __name__ == "__main__":
    main()
