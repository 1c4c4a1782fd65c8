"""The reads of one run: its row, scores, spans, model calls, recording and related runs.

Mixed into :class:`cabtui.store.store.Store`, which gives the cursor, the runs' SELECT and the
sweep's root; a published sweep's store (store.remote) fetches the run before each of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from cabtui.scoring import Weights
from cabtui.store.query import Query


class RunReads:
    """The per-run queries of a :class:`~cabtui.store.store.Store`."""

    root: Path

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the store (given by the Store)."""
        raise NotImplementedError

    def runs_sql(self, q: Query) -> tuple[str, list[object]]:
        """A SELECT of the filtered runs (given by the Store)."""
        raise NotImplementedError

    def _dicts(
        self, sql: str, params: list[object], json_keys: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """The rows of a query as dicts, with the JSON columns in ``json_keys`` decoded."""
        cur = self.cursor().execute(sql, params)
        names = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            d = dict(zip(names, row))
            for k in json_keys:
                if isinstance(d.get(k), str):
                    d[k] = json.loads(d[k])
            out.append(d)
        return out

    def score_map(self, cell_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """For each run, {axis: {key: value}} of every score key it carries (missing ones left
        out; test tails too)."""
        if not cell_ids:
            return {}
        rows = (
            self.cursor()
            .execute(
                "SELECT cell_id, axis, key, value FROM scores WHERE cell_id IN "
                "(SELECT unnest(?::VARCHAR[])) AND value IS NOT NULL AND value::VARCHAR <> 'null' "
                "AND key NOT IN ('stdout_tail', 'stderr_tail')",
                [cell_ids],
            )
            .fetchall()
        )
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for cid, axis, key, value in rows:
            out.setdefault(cid, {}).setdefault(axis, {})[key] = json.loads(value)
        return out

    def run(self, cell_id: str, weights: Weights | None = None) -> dict[str, Any] | None:
        sql, params = self.runs_sql(Query(weights=weights))
        rows = self._dicts(
            f"SELECT * FROM ({sql}) WHERE cell_id = ?",
            params + [cell_id],
            ("extra", "composite_weights", "composite_components", "marker_hits",
             "keyword_hits", "refusal_reasons", "refusal_signals"),
        )  # fmt: skip
        return rows[0] if rows else None

    def find(self, text: str, limit: int = 20) -> list[str]:
        """cell_ids equal to, or else ending with or containing, ``text``."""
        cur = self.cursor()
        exact = cur.execute("SELECT cell_id FROM runs WHERE cell_id = ?", [text]).fetchall()
        if exact:
            return [exact[0][0]]
        rows = cur.execute(
            "SELECT cell_id FROM runs WHERE contains(cell_id, ?) ORDER BY cell_id LIMIT ?",
            [text, limit],
        ).fetchall()
        return [r[0] for r in rows]

    def scores(self, cell_id: str) -> list[tuple[str, str, Any]]:
        rows = (
            self.cursor()
            .execute("SELECT axis, key, value FROM scores WHERE cell_id = ?", [cell_id])
            .fetchall()
        )
        return [(a, k, None if v is None else json.loads(v)) for a, k, v in rows]

    def spans(self, cell_id: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT span_id, parent_id, kind, name, start_ms, duration_ms, attrs, error "
            "FROM spans WHERE cell_id = ? ORDER BY start_ms NULLS LAST, seq",
            [cell_id],
            ("attrs", "error"),
        )

    def model_calls(self, cell_id: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT * EXCLUDE (cell_id, source_file, source_row) FROM model_calls WHERE cell_id = ? "
            "ORDER BY seq NULLS LAST, timestamp",
            [cell_id],
            ("prompt", "completion"),
        )

    def recording(self, cell_id: str) -> dict[str, Any] | None:
        rows = self._dicts("SELECT * FROM recordings WHERE cell_id = ?", [cell_id])
        if not rows:
            return None
        rows[0]["file"] = self.root / rows[0]["path"]
        return rows[0]

    def related(self, cell_id: str, limit: int = 50) -> dict[str, list[str]]:
        """Runs related to this one, closest first: other CLIs on this task (same model first),
        other models with this CLI (same task first), other tasks in this family (same CLI and
        model), and the other reruns of this cell. Every opened sweep is searched, this one first."""
        run = self.run(cell_id)
        if run is None:
            return {}
        r = run
        groups: dict[str, tuple[str, list[object], str, list[object]]] = {
            "other CLIs on this task": (
                "task_id = ? AND tui <> ?", [r["task_id"], r["tui"]],
                "model <> ?, sweep_id <> ?", [r["model"], r["sweep_id"]],
            ),
            "other models with this CLI": (
                "tui = ? AND model <> ?", [r["tui"], r["model"]],
                "task_id <> ?, sweep_id <> ?", [r["task_id"], r["sweep_id"]],
            ),
            "other tasks in this family": (
                "tui = ? AND model = ? AND family = ? AND task_id <> ?",
                [r["tui"], r["model"], r["family"], r["task_id"]],
                "sweep_id <> ?", [r["sweep_id"]],
            ),
            "other reruns": ("cell = ? AND cell_id <> ?", [r["cell"], cell_id], "run", []),
        }  # fmt: skip
        out = {}
        for name, (where, params, order, order_params) in groups.items():
            rows = (
                self.cursor()
                .execute(
                    f"SELECT cell_id FROM runs WHERE {where} ORDER BY {order}, cell_id LIMIT {int(limit)}",
                    params + order_params,
                )
                .fetchall()
            )
            out[name] = [row[0] for row in rows]
        return out
