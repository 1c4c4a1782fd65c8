"""One run in detail: per-axis bars, run identity, the scorer breakdown, the test output, the
command that reruns it and links to related runs. Loaded in a worker thread."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from cabtui.scoring import composite
from cabtui.store.detail import (
    TAIL_KEYS,
    DetailData,
    load_detail,
    rerun_commands,
)
from cabtui.store.store import Store
from cabtui.text import safe, shown
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.base import CabScreen
from cabtui.ui.screens.detail_sections import (
    identity_rows,
    panes_renderable,
    scores_renderable,
    status_text,
    tail_renderable,
)
from cabtui.ui.widgets.axis_bars import AxisBars, fmt_score
from cabtui.ui.widgets.fit import wrap_path
from cabtui.ui.widgets.kv import kv_table


class Section(Static, can_focus=True):
    """A focusable block of the page, so tab walks from section to section."""


class DetailScreen(CabScreen[None]):
    CSS_PATH = "detail.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = [
        KeyCommand("back", "escape", "Back", "Return to the previous screen."),
        KeyCommand("scroll_down", "j", "Down", "Scroll the page down.", show=False),
        KeyCommand("scroll_up", "k", "Up", "Scroll the page up.", show=False),
        KeyCommand("copy_command", "y", "Copy cmd", "Copy the command that reruns this run."),
        KeyCommand("toggle_secrets", "x", "Secrets", "Show or mask secrets (API keys, tokens)."),
        KeyCommand("replay", "r", "Replay", "Replay this run's trace and terminal recording."),
        KeyCommand("compare_related('other CLIs on this task')", "c", "Cmp CLI", "Compare with the same task run by another CLI."),
        KeyCommand("compare_related('other models with this CLI')", "M", "Cmp model", "Compare with the same task and CLI under another model."),
    ]  # fmt: skip
    BINDINGS = bindings(COMMAND_LIST)

    reveal: reactive[bool] = reactive(False, init=False)

    def __init__(self, store: Store, cell_id: str) -> None:
        super().__init__()
        self.store = store
        self.cell_id = cell_id
        self.data: DetailData | None = None
        self.related_ids: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="detail-note")
        with VerticalScroll(id="detail-body"):
            yield Static(Text(shown(self.cell_id), style="bold"), id="detail-title")
            yield Section(Text("Loading…", style="dim"), id="detail-status")
            yield Static("Per-axis scores", classes="heading", id="detail-axes-heading")
            yield AxisBars(id="detail-axes")
            yield Static("Run identity", classes="heading")
            yield Section(id="detail-identity")
            yield Static("Rerun (y copies the first line)", classes="heading")
            yield Section(id="detail-command")
            yield Static("Related runs (enter opens)", classes="heading")
            yield OptionList(id="detail-related")
            yield Static("Scorer breakdown", classes="heading")
            yield Section(id="detail-scores")
            yield Static("stdout_tail", classes="heading")
            yield Section(id="detail-stdout", classes="tail")
            yield Static("stderr_tail", classes="heading")
            yield Section(id="detail-stderr", classes="tail")
            yield Static("Terminal captures", classes="heading", id="detail-panes-heading")
            yield Section(id="detail-panes", classes="tail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-note").display = False
        self.watch(self.app, "weights", self._weights_changed, init=False)
        self.watch(self.app, "store", self._store_changed, init=False)
        self.load()

    def _weights_changed(self, _: object) -> None:
        self.load()

    def _store_changed(self, store: Store | None) -> None:
        """The sweep changed on disk (cab-tui open follows it): this run as it is now."""
        if store is not None and store is not self.store:
            self.store = store
            self.load()

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load(self) -> None:
        data = load_detail(self.store, self.cell_id, self.app.weights)
        self.app.call_from_thread(self.loaded, data)

    # -- rendering ---------------------------------------------------------------------------

    def shown_text(self, value: str | None) -> str:
        """A string from the data, masked unless revealed, control characters replaced."""
        return shown(value, self.reveal)

    def loaded(self, data: DetailData | None) -> None:
        if data is not None and data == self.data:
            return  # read again (the sweep changed on disk) and the same: keep the reader's place
        self.data = data
        status = self.query_one("#detail-status", Section)
        if data is None:
            status.update(Text(f"No run {shown(self.cell_id)} in this store.", style="bold red"))
            return
        self.render_all()
        self.query_one("#detail-body").focus()

    def watch_reveal(self) -> None:
        if self.data is not None:
            self.render_all()

    def render_all(self) -> None:
        data = self.data
        assert data is not None and data.shown is not None and data.baseline is not None
        run = data.run
        self._title()
        self.render_note(run.get("note"))
        self.query_one("#detail-status", Section).update(status_text(data, self.reveal))
        weights = data.what_if or data.sweep_weights
        bars = self.query_one(AxisBars)
        cab = run.get("source") in (None, "cab")  # other sources define no composite
        bars.display = self.query_one("#detail-axes-heading").display = cab
        if cab:
            bars.show(
                data.shown,
                weights,
                run.get("composite_recorded"),
                composite(data.baseline),
                data.what_if is not None,
            )
        panes = panes_renderable(run, self.reveal)
        self.query_one("#detail-panes", Section).update(panes or "")
        self.query_one("#detail-panes").display = bool(panes)
        self.query_one("#detail-panes-heading").display = bool(panes)
        self.query_one("#detail-identity", Section).update(
            kv_table(identity_rows(run, self.reveal))
        )
        self.query_one("#detail-command", Section).update(
            Text("\n").join(
                Text(safe(c), style="bold") for c in rerun_commands(data, self.shown_text)
            )
        )
        self.query_one("#detail-scores", Section).update(scores_renderable(data, self.reveal))
        for key in TAIL_KEYS:
            self.query_one(f"#detail-{key.removesuffix('_tail')}", Section).update(
                tail_renderable(run, key, self.reveal)
            )
        self.render_related(data)

    def _title(self) -> None:
        """The cell_id, broken at its "/" where the width asks (never inside a name)."""
        title = self.query_one("#detail-title", Static)
        width = title.content_region.width or self.app.size.width - 4
        title.update(Text(wrap_path(self.shown_text(self.cell_id), width), style="bold"))

    def on_resize(self) -> None:
        self.call_after_refresh(self._title)

    def render_note(self, note: str | None) -> None:
        banner = self.query_one("#detail-note", Static)
        banner.display = bool(note)
        if note:
            banner.update(Text(f"⚠ {self.shown_text(note)}", style="bold"))

    def render_related(self, data: DetailData) -> None:
        options = self.query_one("#detail-related", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        self.related_ids = []
        for group, runs in data.related.items():
            title = Text(safe(group), style="bold")
            if not runs:
                title.append("  none in this store", style="dim italic")
            options.add_option(Option(title, disabled=True))
            self.related_ids.append(None)
            for r in runs:
                label = Text("  ")
                label.append(" pass " if (r.pass_ or 0) >= 1 else " fail ",
                             style="black on green" if (r.pass_ or 0) >= 1 else "white on red")  # fmt: skip
                label.append(f" {fmt_score(r.composite)}  {self.shown_text(r.cell_id)}")
                options.add_option(Option(label))
                self.related_ids.append(r.cell_id)
        if not self.related_ids:
            options.add_option(
                Option(Text("no related runs in this store", style="dim"), disabled=True)
            )
            self.related_ids.append(None)
        if highlighted is not None and highlighted < len(self.related_ids):
            options.highlighted = highlighted

    # -- actions -----------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#detail-related")
    def open_related(self, event: OptionList.OptionSelected) -> None:
        cell_id = (
            self.related_ids[event.option_index]
            if event.option_index < len(self.related_ids)
            else None
        )
        if cell_id:
            self.app.push_screen(DetailScreen(self.store, cell_id))

    def action_compare_related(self, group: str) -> None:
        """Compare this run with the first run of a related group."""
        others = self.data.related.get(group, []) if self.data is not None else []
        if not others:
            self.notify(f"No {group.split(' ', 1)[1]} in this store.", severity="warning")
            return
        from cabtui.ui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(self.store, self.cell_id, others[0].cell_id))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:  # never pop the app's first screen
            self.dismiss()

    def action_scroll_down(self) -> None:
        self.query_one("#detail-body", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#detail-body", VerticalScroll).scroll_up()

    def action_copy_command(self) -> None:
        if self.data is None:
            return
        command = rerun_commands(self.data, self.shown_text)[0]
        self.app.copy_to_clipboard(command)
        self.notify(safe(command), title="Copied", markup=False)

    def action_toggle_secrets(self) -> None:
        self.reveal = not self.reveal
        self.notify(
            "secrets shown" if self.reveal else "secrets masked",
            severity="warning" if self.reveal else "information",
        )

    def action_replay(self) -> None:
        from cabtui.ui.screens.replay import ReplayScreen

        self.app.push_screen(ReplayScreen(self.store, self.cell_id))
