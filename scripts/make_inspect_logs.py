"""Make small real Inspect eval logs with Inspect itself (offline: ``mockllm`` models, a bash
tool in the local sandbox), for cabtui's tests and its sample data under data/inspect/.

    .venv/bin/python scripts/make_inspect_logs.py [OUT]   # default: data/inspect (.eval only)

One task, ``shell``, of four samples run for three epochs by two mock models (two logs, so
that ``cab-tui paired`` has samples to pair), scored by two scorers (``includes``, and
``shell_work`` giving a dict of numbers): sample ``echo`` passes, ``wrong`` makes a call the tool refuses and answers wrongly,
``crash`` raises in the agent (an errored sample), ``loop`` runs commands until the message
limit stops it. Every mock output carries a ModelUsage (else mockllm counts tokens with
tiktoken, which downloads its encoding). Needs inspect-ai (the dev extra).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from inspect_ai import Task, eval, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.model._call_tools import execute_tools
from inspect_ai.scorer import Score, Target, includes, mean, scorer
from inspect_ai.solver import Generate, TaskState, solver
from inspect_ai.tool import bash

SCRIPTS: dict[str, list[dict[str, str]]] = {
    "echo": [{"bash": "echo hello > out.txt && cat out.txt"}, {"answer": "The file says hello"}],
    "wrong": [{"bash": "cat missing.txt"}, {"badargs": "echo x"}, {"answer": "It says goodbye"}],
    "crash": [{"bash": "echo about to fail"}, {"raise": "the agent fell over"}],
    "loop": [{"bash": f"echo step {i}"} for i in range(12)] + [{"answer": "never reached"}],
}


def _usage(i: int, text: str) -> ModelUsage:
    prompt, completion = 40 + 15 * i, 5 + len(text) // 4
    return ModelUsage(
        input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion
    )


def _outputs(model: str, script: list[dict[str, str]]) -> list[ModelOutput]:
    outs = []
    for i, step in enumerate(script):
        if "bash" in step or "badargs" in step:
            # badargs: a call the tool refuses (its argument is "command"): a tool error
            key = "command" if "bash" in step else "cmd"
            cmd = step.get("bash") or step["badargs"]
            out = ModelOutput.for_tool_call(model, "bash", {key: cmd})
            out.usage = _usage(i, cmd)
        else:
            out = ModelOutput.from_content(model, step.get("answer", "..."))
            out.usage = _usage(i, step.get("answer", ""))
        outs.append(out)
    return outs


@solver
def mock_agent() -> Any:
    """A tool loop over a scripted mock model (one per sample, so epochs run the same)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        script = SCRIPTS[str(state.sample_id)]
        name = str(state.model)
        model = get_model(
            name, custom_outputs=_outputs(name.split("/", 1)[1], script), memoize=False
        )
        tools = [bash(timeout=30)]
        for step in script:
            if "raise" in step:
                raise RuntimeError(step["raise"])
            out = await model.generate(state.messages, tools)
            state.messages.append(out.message)
            state.output = out
            if not out.message.tool_calls:
                break
            result = await execute_tools(state.messages, tools)
            state.messages.extend(result.messages)
        return state

    return solve


@scorer(metrics={"tool_calls": [mean()], "files": [mean()]})
def shell_work() -> Any:
    """How much shell work the sample did: tool calls made, and whether out.txt was written."""

    async def score(state: TaskState, target: Target) -> Score:
        calls = sum(len(m.tool_calls or []) for m in state.messages if m.role == "assistant")
        wrote = any("hello" in str(m.content) for m in state.messages if m.role == "tool")
        return Score(
            value={"tool_calls": float(calls), "files": 1.0 if wrote else 0.0},
            answer=str(calls),
            explanation=f"{calls} tool calls; out.txt {'written' if wrote else 'not written'}",
        )

    return score


@task
def shell() -> Task:
    return Task(
        dataset=[
            Sample(
                id=k, input=f"Run the script for {k} and say what the file says.", target="hello"
            )
            for k in SCRIPTS
        ],
        solver=mock_agent(),
        scorer=[includes(), shell_work()],
        sandbox="local",
        message_limit=10,
    )


def make(out: Path, formats: tuple[str, ...] = ("eval", "json")) -> list[Path]:
    """Run the task for each mock model and format; the logs written, in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as work:
        cwd = os.getcwd()
        os.chdir(work)  # the local sandbox runs the commands in the current directory
        try:
            for model, fmt in (
                ("mockllm/model", "eval"),
                ("mockllm/other", "eval"),
                ("mockllm/model", "json"),
            ):
                if fmt not in formats:
                    continue
                (log,) = eval(
                    shell(), model=model, epochs=3, log_dir=work + "/logs", log_format=fmt,
                    fail_on_error=False, display="none", max_samples=1,
                )  # fmt: skip
                src = Path(log.location)
                dst = out / f"shell_{model.split('/')[1]}.{fmt}"
                shutil.copy(src, dst)
                made.append(dst)
        finally:
            os.chdir(cwd)
    return made


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parent.parent / "data" / "inspect"
    )
    for p in make(target, ("eval",)):
        print(p)
