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

    @contextmanager
    def stage(self, name: str, label: str, total: int = 1) -> Iterator[Callable[[int, int | None], None]]:
        """Yield ``update(done, total=None)`` for the stage ``name``; completes it on exit."""
        bar = None
        if self.bars:
            from tqdm import tqdm

            bar = tqdm(total=total, desc=label, unit="step", file=sys.stderr, leave=True)
        weight = self.weights.get(name, 0.0)
        state = {"total": max(total, 1), "last": 0}

        def update(done: int, new_total: int | None = None) -> None:
            if new_total:
                state["total"] = max(new_total, 1)
                if bar is not None:
                    bar.total = new_total
            if bar is not None:
                bar.update(done - state["last"])
            state["last"] = done
            self._report(self.done + weight * min(done / state["total"], 1.0), label)

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
