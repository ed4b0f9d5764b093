"""Warm-up: prepare the default datasets in the background so the first visitor does not wait.

``start()`` launches ``python -m serving.warmup imdb reuters ...`` as a detached,
low-priority process (``os.nice``); that process holds an exclusive lock file in
the cache folder, so several web processes (or machines sharing the folder)
starting at once run one warm-up.  Each step is prepared by a fresh
``python -m model.prepare`` subprocess: TensorFlow never loads in a web process.
A step is a dataset id (its PCA, the page's default) or ``id:method`` (``imdb:umap``:
that projection of the same states, prepared after them).  With the shipped
pretrained classifiers (``model.pretrained``) nothing is trained.

While it runs, ``warmup-status.json`` next to the lock says what it is doing
(:func:`status`): the dataset, the stage and fraction done, and the datasets
finished, so a page can show the warm-up's progress instead of starting its own.
When the process that started it (``--parent PID``) is gone, the warm-up stops.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from model import config
from model.lifeline import process_alive
from model.progress import parse_line
from serving import jobqueue

ROOT = Path(__file__).resolve().parents[1]
LOCK_NAME = "warmup.lock"
STATUS_NAME = "warmup-status.json"
NICENESS = 10
STEP_MARK = ":"  # "imdb:umap": a step that prepares another projection of a dataset
WARMUP_OWNER = "server warm-up"
log = logging.getLogger("rnnx.warmup")


def step_name(dataset: str, method: str = "pca") -> str:
    """The warm-up's name for preparing ``dataset`` with ``method`` (``imdb``, ``imdb:umap``)."""
    return dataset if method == "pca" else f"{dataset}{STEP_MARK}{method}"


def split_step(name: str) -> tuple[str, str]:
    """``"imdb:umap"`` → ``("imdb", "umap")``; a plain dataset id is its PCA."""
    dataset, mark, method = name.partition(STEP_MARK)
    return dataset, (method if mark else "pca")


def commands(datasets: Sequence[str]) -> list[list[str]]:
    """One ``model.prepare`` command line per step (``imdb~all``: ``--sequences all``; ``imdb:umap``:
    ``--projection umap``)."""
    lines = []
    for name in datasets:
        dataset, method = split_step(name)
        base, mark, size = dataset.partition("~")
        sizes = ["--sequences", size] if mark else []
        projection = ["--projection", method] if method != "pca" else []
        lines.append(
            [sys.executable, "-m", "model.prepare", "--dataset", base, *sizes, *projection, "--json"]
        )
    return lines


def start(datasets: Sequence[str], follow_parent: bool = True) -> subprocess.Popen | None:
    """Launch the warm-up runner in its own session; returns it, or None when there is nothing to do.

    Never blocks: the runner is reaped by a daemon thread. With ``follow_parent`` it stops when
    this process ends.
    """
    if not datasets:
        return None
    parent = ["--parent", str(os.getpid())] if follow_parent else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "serving.warmup", *parent, *datasets], cwd=ROOT, start_new_session=True
    )
    threading.Thread(target=proc.wait, name="warmup-reaper", daemon=True).start()
    return proc


def status_path() -> Path:
    return config.cache_dir() / STATUS_NAME


def status() -> dict | None:
    """What the warm-up is doing (or last did), or None when none ran with this cache.

    ``{"running", "datasets", "current", "stage", "fraction", "done": {name: {"ok", "seconds",
    "classifier_source", "n_sequences", "n_hidden_states"}}, "started", "updated", "pid"}``; ``running`` is False once it finished
    or its process is gone.
    """
    try:
        data = json.loads(status_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    data["running"] = bool(data.get("running")) and process_alive(int(data.get("pid") or 0))
    return data


class _Status:
    """Writes ``warmup-status.json`` atomically (at most a few times a second)."""

    def __init__(self, datasets: Sequence[str]) -> None:
        self.data = {
            "running": True,
            "pid": os.getpid(),
            "datasets": list(datasets),
            "current": None,
            "stage": None,
            "fraction": 0.0,
            "done": {},
            "started": time.time(),
            "updated": time.time(),
        }
        self.last = 0.0
        self.write(force=True)

    def update(self, force: bool = False, **changes) -> None:
        self.data.update(changes)
        self.write(force)

    def write(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self.last < 0.25:
            return
        self.last = self.data["updated"] = now
        path = status_path()
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        with contextlib.suppress(OSError):
            temporary.write_text(json.dumps(self.data), encoding="utf-8")
            os.replace(temporary, path)


def _streaming_runner(status: _Status | None) -> Callable[..., subprocess.CompletedProcess]:
    """A ``subprocess.run`` look-alike that turns the child's progress lines into status updates."""

    def runner(argv: list[str], cwd=None, stdout=None, check=False) -> subprocess.CompletedProcess:
        proc = subprocess.Popen(
            [*argv, "--progress-lines"], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        _current.append(proc)
        try:
            for line in proc.stderr:
                progress = parse_line(line)
                if progress is None:
                    sys.stderr.write(line)  # warnings (a refused pretrained file) reach the server's log
                elif status is not None:
                    status.update(fraction=progress[0], stage=progress[1])
            out = proc.stdout.read()
            return subprocess.CompletedProcess(argv, proc.wait(), out)
        finally:
            _current.remove(proc)

    return runner


_current: list[subprocess.Popen] = []  # the prepare process running now (stopped with the warm-up)
_holding: list[bool] = []  # non-empty while this process holds the lock (and owns the status file)


def run(datasets: Sequence[str], runner: Callable[..., subprocess.CompletedProcess] | None = None) -> int:
    """Prepare each dataset in turn unless another warm-up holds the lock; returns the failures."""
    if importlib.util.find_spec("model.prepare") is None:
        log.warning("warm-up skipped: model.prepare is not available")
        return 0
    lock_dir = config.cache_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / LOCK_NAME, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("warm-up already running elsewhere")
            return 0
        _holding.append(True)
        status = _Status(datasets) if runner is None else None
        runner = runner or _streaming_runner(status)
        failures = 0
        for name, argv in zip(datasets, commands(datasets), strict=True):
            log.info("warm-up: %s", " ".join(argv[1:]))
            if status is not None:
                status.update(force=True, current=name, stage="Starting", fraction=0.0)
            began = time.monotonic()
            with jobqueue.slot(WARMUP_OWNER, "prepare", _queued(status)):  # one of the server's heavy jobs
                result = runner(argv, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
            seconds = round(time.monotonic() - began, 1)
            summary = _summary(getattr(result, "stdout", None))
            source = summary.get("classifier_source")
            if result.returncode != 0:
                failures += 1
                log.warning("warm-up step failed (exit %s): %s", result.returncode, " ".join(argv[1:]))
            else:
                log.info("warm-up: %s ready in %.1f s (classifier: %s)", name, seconds, source or "?")
            if status is not None:
                finished = {"ok": result.returncode == 0, "seconds": seconds, "classifier_source": source}
                finished.update({k: summary.get(k) for k in ("n_sequences", "n_hidden_states")})
                status.update(force=True, done={**status.data["done"], name: finished})
        if status is not None:
            status.update(force=True, running=False, current=None, stage=None)
        return failures


def _queued(status: _Status | None) -> Callable[[int, float | None], None]:
    """Shows the warm-up's place in the job queue in its status (what a following page reads)."""

    def show(place: int, estimate: float | None) -> None:
        if status is not None:
            status.update(stage=jobqueue.waiting_label(place, estimate), fraction=0.0)

    return show


def _summary(stdout) -> dict:
    """A prepare run's JSON summary (its last stdout line); empty when there is none."""
    if not isinstance(stdout, str) or not stdout.strip():
        return {}
    try:
        summary = json.loads(stdout.strip().splitlines()[-1])
    except ValueError:
        return {}
    return summary if isinstance(summary, dict) else {}


def _follow(parent: int) -> None:
    """Stop the warm-up (and the prepare it runs) once ``parent`` is gone."""
    while process_alive(parent) and os.getppid() == parent:
        time.sleep(1.0)
    for proc in list(_current):
        with contextlib.suppress(OSError):
            proc.terminate()
    log.info("warm-up stopped: the server (pid %s) is gone", parent)
    if _holding:  # the status file is ours only while we hold the lock
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(status_path().read_text(encoding="utf-8"))
            data.update(running=False, current=None, stage=None, stopped=True)
            status_path().write_text(json.dumps(data), encoding="utf-8")
    os._exit(0)


def main(argv: list[str]) -> int:
    """Entry point of the detached runner (low priority, never fails the server)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.nice(NICENESS)
    if len(argv) >= 2 and argv[0] == "--parent":
        threading.Thread(target=_follow, args=(int(argv[1]),), daemon=True).start()
        argv = argv[2:]
    run(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
