"""Paired comparisons of CLIs and models: the sign test, the bootstrap, and pairing on a small
synthetic sweep checked against independent SQL."""

from __future__ import annotations

import json
from math import factorial

import pytest
from typer.testing import CliRunner

from cabtui.cli import app as cli
from cabtui.compare.stats import bootstrap_ci, compare_diffs, mean_ci, paired, sign_test, t975
from cabtui.scoring import Weights
from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.sweep.synth import synth_sweep

runner = CliRunner()


def choose(n: int, k: int) -> int:
    return factorial(n) // (factorial(k) * factorial(n - k))


def test_sign_test_known_values() -> None:
    # 8 wins, 2 losses: p = 2 * (C(10,0) + C(10,1) + C(10,2)) / 2^10 = 2 * 56 / 1024
    assert sign_test(8, 2) == pytest.approx(112 / 1024)
    assert sign_test(2, 8) == sign_test(8, 2)
    assert sign_test(10, 0) == pytest.approx(2 / 1024)
    assert sign_test(5, 5) == 1.0
    assert sign_test(0, 0) == 1.0
    # 15 vs 3 by the hand formula
    assert sign_test(15, 3) == pytest.approx(2 * sum(choose(18, i) for i in range(4)) / 2**18)
    assert sign_test(600, 400) < 1e-9  # exact integers: no overflow on large n


def test_compare_diffs_counts_and_p() -> None:
    diffs = [0.2, 0.1, -0.05, 0.0, 0.3, 0.4, 0.1, 0.0, 0.2, 0.25]
    r = compare_diffs(diffs, resamples=500, seed=1)
    assert (r["n"], r["wins"], r["losses"], r["ties"]) == (10, 7, 1, 2)
    assert r["p"] == pytest.approx(2 * (1 + 8) / 2**8)
    assert r["mean_diff"] == pytest.approx(sum(diffs) / 10)
    lo, hi = r["ci"]
    assert lo <= r["mean_diff"] <= hi
    assert compare_diffs(diffs, resamples=500, seed=1) == r  # seeded


def test_bootstrap_constant_and_empty() -> None:
    assert bootstrap_ci([0.5] * 7) == (0.5, 0.5)
    assert bootstrap_ci([]) is None


def test_mean_ci() -> None:
    assert t975(1) == 12.706 and t975(30) == 2.042
    assert t975(1000) == pytest.approx(1.962, abs=1e-3)
    r = mean_ci([1.0, 2.0, 3.0])  # mean 2, sd 1, half = 4.303 / sqrt(3)
    assert r["mean"] == 2.0 and r["hi"] - 2.0 == pytest.approx(4.303 / 3**0.5)
    assert mean_ci([0.9, 1.0, 0.2], bounds=(0.0, 1.0))["hi"] == 1.0
    assert mean_ci([])["mean"] is None


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("stats") / "s"
    synth_sweep(path, runs=600, seed=3)
    return Store.open(path)


def _shared(store: Store, dim: str, other: str, x: str, y: str) -> int:
    """Independently: (sweep, task, other) groups holding a run of both x and y."""
    sql = f"""SELECT count(*) FROM (
                SELECT sweep_id, task_id, {other} FROM runs WHERE {dim} = ?
                INTERSECT SELECT sweep_id, task_id, {other} FROM runs WHERE {dim} = ?)"""
    return int(store.cursor().execute(sql, [x, y]).fetchall()[0][0])


def _best_pair(store: Store, dim: str, other: str) -> tuple[str, str]:
    values = store.distinct(dim)
    best = max(
        ((x, y) for x in values for y in values if x < y),
        key=lambda p: _shared(store, dim, other, *p),
    )
    return best


@pytest.mark.parametrize(("dim", "other"), [("tui", "model"), ("model", "tui")])
def test_paired_counts_shared_tasks(synth_store: Store, dim: str, other: str) -> None:
    x, y = _best_pair(synth_store, dim, other)
    r = paired(synth_store, dim, x, y)
    n = _shared(synth_store, dim, other, x, y)
    assert n > 0
    assert r["n_pairs"] == n
    for m in ("composite", "pass"):
        res = r["metrics"][m]
        assert res["n"] == n
        assert res["wins"] + res["losses"] + res["ties"] == n
        assert res["p"] == pytest.approx(sign_test(res["wins"], res["losses"]))
    # swapping x and y mirrors the result
    s = paired(synth_store, dim, y, x)["metrics"]["composite"]
    c = r["metrics"]["composite"]
    assert (s["wins"], s["losses"]) == (c["losses"], c["wins"])
    assert s["mean_diff"] == pytest.approx(-c["mean_diff"])


def test_paired_mean_diff_by_sql(synth_store: Store) -> None:
    x, y = _best_pair(synth_store, "tui", "model")
    r = paired(synth_store, "tui", x, y)
    want = (
        synth_store.cursor()
        .execute(
            """WITH c AS (SELECT sweep_id, task_id, model, tui, avg(pass) AS p FROM runs GROUP BY ALL)
           SELECT avg(a.p - b.p) FROM c a JOIN c b USING (sweep_id, task_id, model)
           WHERE a.tui = ? AND b.tui = ?""",
            [x, y],
        )
        .fetchall()[0][0]
    )
    assert r["metrics"]["pass"]["mean_diff"] == pytest.approx(want)


def test_paired_fixed_and_errors(synth_store: Store) -> None:
    x, y = _best_pair(synth_store, "tui", "model")
    fam = synth_store.distinct("family")[0]
    r = paired(synth_store, "tui", x, y, fixed={"family": fam})
    n = (
        synth_store.cursor()
        .execute(
            """SELECT count(*) FROM (SELECT sweep_id, task_id, model FROM runs WHERE tui = ? AND family = ?
           INTERSECT SELECT sweep_id, task_id, model FROM runs WHERE tui = ? AND family = ?)""",
            [x, fam, y, fam],
        )
        .fetchall()[0][0]
    )
    assert r["n_pairs"] == n
    with pytest.raises(ValueError):
        paired(synth_store, "task_id", x, y)
    with pytest.raises(ValueError):
        paired(synth_store, "tui", x, y, fixed={"tui": x})
    with pytest.raises(ValueError):
        paired(synth_store, "tui", x, y, fixed={"1=1; --": "x"})


def test_headless_imports() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cabtui.compare, cabtui.compare.diff, cabtui.compare.stats, cabtui.commands.compare; "
        "assert 'textual' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_paired_under_a_filter_counts_only_matching_runs(synth_store: Store) -> None:
    x, y = _best_pair(synth_store, "tui", "model")
    fam = synth_store.distinct("family")[0]
    by_filter = paired(synth_store, "tui", x, y, query=Query(filter=f"family:{fam}"))
    by_fix = paired(synth_store, "tui", x, y, fixed={"family": fam})
    assert by_filter["n_pairs"] == by_fix["n_pairs"]
    assert by_filter["metrics"] == by_fix["metrics"]
    assert by_filter["filter"] == f"family:{fam}"
    # what-if weights: the composite of each side is recomputed with them
    only_pass = Weights(1.0, 0.0, 0.0, 0.0, 0.0, 60000.0)
    r = paired(synth_store, "tui", x, y, query=Query(weights=only_pass))
    runs = synth_store.runs(
        Query(weights=only_pass),
        limit=None,
        columns=("sweep_id", "task_id", "model", "tui", "composite"),
    ).to_pylist()
    cells: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    for run in runs:
        key = (run["sweep_id"], run["task_id"], run["model"])
        cells.setdefault(key, {}).setdefault(run["tui"], []).append(run["composite"])
    diffs = [
        sum(v[x]) / len(v[x]) - sum(v[y]) / len(v[y]) for v in cells.values() if x in v and y in v
    ]
    assert r["metrics"]["composite"]["n"] == len(diffs) > 0
    assert r["metrics"]["composite"]["mean_diff"] == pytest.approx(sum(diffs) / len(diffs))
    assert r["metrics"]["composite"] != paired(synth_store, "tui", x, y)["metrics"]["composite"]


def test_cab_tui_paired_json(synth_store: Store) -> None:
    x, y = _best_pair(synth_store, "tui", "model")
    res = runner.invoke(
        cli, ["paired", str(synth_store.root), "tui", x, y, "--format", "json"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["n_pairs"] == _shared(synth_store, "tui", "model", x, y)
    assert r["metrics"]["composite"] == paired(synth_store, "tui", x, y)["metrics"]["composite"]
    table = runner.invoke(cli, ["paired", str(synth_store.root), "tui", x, y])
    assert table.exit_code == 0 and f"{r['n_pairs']} pairs" in table.output


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["tui", "aider", "no-such-cli"], 1, "no tui named 'no-such-cli'"),
        (["task_id", "a", "b"], 2, "compare along one of"),
        (["tui", "aider", "codex", "--fix", "colour=red"], 2, "--fix takes COLUMN=VALUE"),
        (["tui", "aider", "codex", "--filter", "wall<soon"], 2, "bad filter"),
    ],
)
def test_cab_tui_paired_errors(synth_store: Store, args: list[str], code: int, said: str) -> None:
    res = runner.invoke(cli, ["paired", str(synth_store.root), *args])
    assert res.exit_code == code
    assert said in " ".join(res.output.split())
