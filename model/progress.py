"""Progress of long work: tqdm bars in a terminal, a callback in the app, JSON lines between processes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressFn = Callable[[float, str], None]
LINE_PREFIX = "RNNX-PROGRESS "


class Stages:
    """Weighted stages of one job; reports the overall fraction done and the current stage."""

    def __init__(self, weights: dict[str, float], on_progress: ProgressFn | None = None, bars: bool = False):
        total = sum(weights.values())
        self.weights = {name: w / total for name, w in weights.items()}
        self.on_progress = on_progress
        self.bars = bars
        self.done = 0.0
        self.begun: set[str] = set()

    def reweigh(self, factors: dict[str, float]) -> None:
        """Scale the weights of stages not begun yet by ``factors`` (1 for a stage not named); the
        stages not begun then share what is left of the bar."""
        waiting = {
            name: w * factors.get(name, 1.0) for name, w in self.weights.items() if name not in self.begun
        }
        total = sum(waiting.values())
        if total > 0:
            self.weights.update({name: (1.0 - self.done) * w / total for name, w in waiting.items()})

    @contextmanager
    def stage(self, name: str, label: str, total: int = 1) -> Iterator[Callable[..., None]]:
        """Yield ``update(done, total=None, detail=None)`` for the stage ``name``; completes it on exit.

        ``detail`` says what the stage is doing now: the label reads ``"<label>: <detail>"``."""
        bar = None
        if self.bars:
            from tqdm import tqdm

            bar = tqdm(total=total, desc=label, unit="step", file=sys.stderr, leave=True)
        self.begun.add(name)
        weight = self.weights.get(name, 0.0)
        state = {"total": max(total, 1), "last": 0}

        def update(done: int, new_total: int | None = None, detail: str | None = None) -> None:
            if new_total:
                state["total"] = max(new_total, 1)
                if bar is not None:
                    bar.total = new_total
            shown = f"{label}: {detail}" if detail else label
            if bar is not None:
                if detail:
                    bar.set_description(shown, refresh=False)
                bar.update(done - state["last"])
            state["last"] = done
            self._report(self.done + weight * min(done / state["total"], 1.0), shown)

        self._report(self.done, label)
        try:
            yield update
        finally:
            if bar is not None:
                bar.close()
            self.done += weight
            self._report(self.done, label)

    def _report(self, fraction: float, label: str) -> None:
        if self.on_progress:
            self.on_progress(min(fraction, 1.0), label)


def line_reporter(stream=sys.stderr) -> ProgressFn:
    """A reporter that writes one JSON line per update, for a parent process to read."""
    last = {"percent": -1, "label": ""}

    def report(fraction: float, label: str) -> None:
        percent = int(fraction * 100)
        if percent != last["percent"] or label != last["label"]:
            last.update(percent=percent, label=label)
            stream.write(LINE_PREFIX + json.dumps({"fraction": round(fraction, 3), "stage": label}) + "\n")
            stream.flush()

    return report


def parse_line(line: str) -> tuple[float, str] | None:
    """The (fraction, stage) of a progress line, or None for any other line."""
    if not line.startswith(LINE_PREFIX):
        return None
    data = json.loads(line[len(LINE_PREFIX) :])
    return float(data["fraction"]), str(data["stage"])
