"""A job's bar: the time left comes from the rate of the stage it is on, never from a stage that has not moved."""

from __future__ import annotations

from components import progress
from model.progress import Stages


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_stage_that_has_not_moved_shows_no_time_left_however_long_it_takes() -> None:
    clock = Clock()
    estimate = progress.Estimate(clock)
    assert estimate(0.2, "Extracting hidden states") == (20, "20% · Extracting hidden states")
    clock.now = 10.0
    assert estimate(0.5, "Extracting hidden states")[1].endswith("· about 15 s left")  # 0.03 a second
    # A fast stage is over; the long one starts at 80% and stays there: no "about 5 s left".
    clock.now = 11.0
    assert estimate(0.8, "Projecting with UMAP: building the UMAP graph") == (
        80,
        "80% · Projecting with UMAP: building the UMAP graph",
    )
    clock.now = 371.0
    assert "left" not in estimate(0.8, "Projecting with UMAP: building the UMAP graph")[1]
    # Its epochs move: the time left is at their rate (numbers in a label do not make a new stage).
    clock.now = 372.0
    assert "left" not in estimate(0.85, "Projecting with UMAP: epoch 1 of 200")[1]
    clock.now = 382.0
    label = estimate(0.9, "Projecting with UMAP: epoch 100 of 200")[1]
    assert label == "90% · Projecting with UMAP: epoch 100 of 200 · about 20 s left"
    clock.now = 400.0
    assert estimate(1.0, "Projecting with UMAP: done") == (100, "100% · Projecting with UMAP: done")


def test_the_estimate_waits_for_a_second_of_the_stage() -> None:
    clock = Clock()
    estimate = progress.Estimate(clock)
    estimate(0.1, "Reading the dataset")
    clock.now = 0.5
    assert "left" not in estimate(0.2, "Reading the dataset")[1]
    clock.now = 1.0
    assert estimate(0.2, "Reading the dataset")[1].endswith("about 10 s left")  # 0.8 left at 0.1 a second


def test_stages_report_details_and_share_what_is_left_by_what_a_run_will_do() -> None:
    seen: list[tuple[float, str]] = []
    stages = Stages(
        {"dataset": 0.2, "extract": 0.6, "project": 0.2}, lambda f, label: seen.append((f, label))
    )
    with stages.stage("dataset", "Reading"):
        pass
    stages.reweigh({"extract": 0.0, "project": 4.0})  # states stored; a projection to compute
    assert abs(stages.weights["project"] - 0.8) < 1e-9 and stages.weights["extract"] == 0.0
    with stages.stage("extract", "Extracting"):
        pass
    with stages.stage("project", "Projecting with UMAP", 1000) as update:
        update(500, 1000, "optimising the layout, epoch 100 of 200")
    assert (0.6, "Projecting with UMAP: optimising the layout, epoch 100 of 200") in [
        (round(f, 6), label) for f, label in seen
    ]
    fractions = [f for f, _label in seen]
    assert fractions == sorted(fractions) and abs(fractions[-1] - 1.0) < 1e-9
