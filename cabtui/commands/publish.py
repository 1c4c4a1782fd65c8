"""cab-tui export: an opened sweep written as Parquet and a manifest, to be synced anywhere."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from cabtui.commands.common import err, error, open_store, stage_bar, stdout_console
from cabtui.store.export import ExportError, export
from cabtui.text import safe

out = stdout_console()


def run(path: Path, dest: Path, reveal: bool, source: str | None) -> None:
    store = open_store(path, source=source)
    try:
        with stage_bar("exporting", "writing", elapsed=False) as progress:
            manifest = export(store, dest, reveal, progress)
    except ExportError as e:
        error(str(e))
        raise typer.Exit(1) from None
    finally:
        store.close()
    size = sum(int(f["size"]) for f in manifest["files"].values())
    line = Text(
        f"exported {manifest['runs']} runs to {safe(str(dest))}: export id "
        f"{manifest['export_id']}, {len(manifest['files'])} files, {size / 1e6:.1f} MB"
    )
    out.print(line)
    if not manifest["masked"]:
        err.print(Text("warning: secrets were not masked (--reveal-secrets)", style="yellow"))
