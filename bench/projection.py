"""Cold UMAP and t-SNE of a prepared dataset's states, with the progress the page would show; one JSON object.

    RNNX_CACHE_DIR=/work/bench-cache python bench/projection.py [--dataset imdb] [--methods umap tsne]

The states come from the cache (prepared first with PCA when missing). Each method runs in a fresh
process (so umap-learn's import and numba compile count, as in a preparation) as the projection
stage of a preparation whose states are stored, writing the same progress lines; nothing is saved.
For every update the report keeps ``[seconds, fraction, label]``: the label as the page shows it
(:class:`components.progress.Estimate`: time left from the current stage's rate), and
``worst_claim``: the update whose "about N s left" was furthest below the time that was really left.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(dataset: str, method: str) -> None:
    """The projection stage of a preparation with stored states, progress lines on stderr."""
    from model import prepare, prepare_run, projection
    from model.progress import Stages, line_reporter

    hidden = prepare.load_states(dataset)["hidden"]
    stages = Stages(prepare.STAGE_WEIGHTS_LOADED, line_reporter())
    for name in ("dataset", "train"):
        with stages.stage(name, name):
            pass
    stages.reweigh({"extract": prepare_run.STORED_SHARE, "project": prepare_run.PROJECT_COST[method]})
    with stages.stage("extract", "Extracting hidden states"):
        pass
    started = time.perf_counter()
    steps = prepare_run.PROJECT_STEPS
    with stages.stage("project", f"Projecting with {projection.LABELS[method]}", steps) as update:
        seed = prepare.projection_seed(dataset)
        report = lambda f, what: update(int(round(f * steps)), steps, what)  # noqa: E731
        points, _projector = projection.fit(hidden, method, seed=seed, on_progress=report)
    seconds = time.perf_counter() - started
    with stages.stage("neighbors", "Indexing the states for nearest neighbours"):
        pass
    print(json.dumps({"seconds": round(seconds, 1), "n_states": len(points)}))


def seconds_claimed(label: str) -> float | None:
    found = re.search(r"about (\d+) (s|min) left", label)
    return None if not found else float(found.group(1)) * (60 if found.group(2) == "min" else 1)


def run_method(dataset: str, method: str) -> dict:
    from components.progress import Estimate
    from model.progress import parse_line

    estimate = Estimate()
    began = time.monotonic()
    command = [sys.executable, __file__, "--child", method, "--dataset", dataset]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timeline = []
    for line in proc.stderr:
        progress = parse_line(line)
        if progress:
            fraction, stage = progress
            timeline.append([round(time.monotonic() - began, 1), fraction, estimate(fraction, stage)[1]])
    out = proc.stdout.read()
    if proc.wait() != 0:
        raise SystemExit(f"{method} failed: {out[-500:]}")
    wall = time.monotonic() - began
    summary = json.loads(out.strip().splitlines()[-1])
    worst = None
    for at, _fraction, label in timeline:
        claimed = seconds_claimed(label)
        if claimed is not None and (
            worst is None or wall - at - claimed > worst["actual_left_s"] - worst["claimed_s"]
        ):
            worst = {"at_s": at, "label": label, "claimed_s": claimed, "actual_left_s": round(wall - at, 1)}
    return {
        "seconds": summary["seconds"],
        "wall_seconds": round(wall, 1),
        "worst_claim": worst,
        "timeline": timeline,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="imdb")
    parser.add_argument("--methods", nargs="+", default=["umap", "tsne"])
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child:
        child(args.dataset, args.child)
        return
    from model import prepare

    if prepare.load_states(args.dataset) is None:
        subprocess.run(
            [sys.executable, "-m", "model.prepare", "--dataset", args.dataset, "--json"], cwd=ROOT, check=True
        )
    report = {
        "dataset": args.dataset,
        "n_states": len(prepare.load_states(args.dataset)["hidden"]),
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 1) for x in os.getloadavg()],
        "methods": {},
    }
    for method in args.methods:
        report["methods"][method] = run_method(args.dataset, method)
    report["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
