"""One preparation's stages (:mod:`model.prepare`): timing, progress, cache hits, locks, scratch files."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import ExitStack

from model import arrays, cache, neighbors, neighbors_ivf, projection, storage
from model.artifacts import Analysis
from model.progress import Stages

DEMO_MESSAGE = (
    "The cache is read-only (demo mode): this analysis is not prepared there and cannot be computed. "
    "Prepare it on a writable cache, or unset RNNX_DEMO_MODE."
)
log = logging.getLogger("rnnx.prepare")
PROJECT_STEPS = 1000  # the projection's progress, in thousandths
# A projection's weight relative to PCA's (UMAP and t-SNE of the 97k IMDB default take about 1.4
# and 3 times as long as extracting its states); a stored artefact's stage keeps this much.
PROJECT_COST = {"pca": 1.0, "umap": 4.0, "tsne": 9.0}
STORED_SHARE = 0.02


class PrepareError(RuntimeError):
    """Preparation failed; the message is meant for the user."""


class Run:
    """One preparation: timed stages with progress, and whether each was a cache hit.

    Use as a context manager: it owns the scratch folder (float32 states for the
    projection of this run), deleted when the run ends, however it ends.
    """

    def __init__(
        self,
        on_progress: Callable[[float, str], None] | None,
        bars: bool,
        weights: dict[str, float],
        force: bool = False,
    ) -> None:
        self.stages = Stages(weights, on_progress, bars)
        self.seconds: dict[str, float] = {}
        self.hits: list[bool] = []
        self.force = force  # recompute states and projection even when cached (after --retrain)
        self.extra: dict = {}
        self.scratch: arrays.Writer | None = None
        self._exit = ExitStack()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc_info) -> None:
        self._exit.close()

    def timed(self, name: str, label: str, total: int, work: Callable):
        start = time.perf_counter()
        with self.stages.stage(name, label, total) as update:
            result = work(update)
        self.seconds[name] = round(time.perf_counter() - start, 3)
        return result

    def states(
        self,
        keys: dict[str, str],
        n: int,
        extract: Callable[[Callable, arrays.Writer | None], None],
        prefix_of: dict[str, str] | None = None,
    ) -> None:
        """Hidden states and the analysis, extracted unless both are stored.

        ``extract(update, scratch)`` writes them; ``prefix_of``: the keys of a larger prepared
        set of the same classifier whose first ``n`` sequences are copied instead of extracting.
        """

        def ready() -> bool:
            return not self.force and self.stored(keys["states"]) and self.stored(keys["analysis"])

        def work(update) -> None:
            if ready():
                self.hits.append(True)
                return
            _writable(keys["analysis"])
            # One extraction at a time per analysis: a second preparation (the warm-up and a
            # visitor's) waits for the first and then reads its result.
            with cache.computing_lock(keys["analysis"]):
                if ready():
                    self.hits.append(True)
                    return
                self.hits.append(False)
                if not self.force and prefix_of and storage.copy_prefix(prefix_of, keys, n):
                    self.extra["copied_from_larger_set"] = True
                    return
                self.scratch = self._exit.enter_context(storage.scratch_for(keys["states"]))
                extract(update, self.scratch)

        self.timed("extract", "Extracting hidden states", n, work)

    def project(self, keys: dict[str, str], method: str, seed: int) -> None:
        """The projection of every stored state (and its projector), unless stored."""

        def ready() -> bool:
            return not self.force and self.stored(keys["projection"]) and cache.contains(keys["projector"])

        def compute(update) -> None:
            hidden = storage.scratch_hidden(self.scratch)
            if hidden is None:
                hidden = storage.load_states(keys["states"])["hidden"]

            def report(fraction: float, what: str) -> None:
                update(int(round(fraction * PROJECT_STEPS)), PROJECT_STEPS, what)

            points, projector = projection.fit(hidden, method, seed=seed, on_progress=report)
            cache.put(keys["projector"], projector)
            meta = {"method": method, "params": projector.params, "seed": seed}
            storage.save_projection(keys["projection"], points, meta, replace=self.force)

        def work(update) -> bool:
            if ready():
                return True
            _writable(keys["projection"])
            with cache.computing_lock(keys["projection"]):
                if ready():
                    return True
                compute(update)
                return False

        hit = self.timed("project", f"Projecting with {projection.LABELS[method]}", PROJECT_STEPS, work)
        self.hits.append(hit)

    def neighbors(self, keys: dict[str, str]) -> None:
        """The nearest-neighbour index (:mod:`model.neighbors_ivf`) of a set above the exact scan's limit,
        unless stored (or the cache is read-only: the exact scan answers there)."""
        key = keys["neighbors"]

        def ready() -> bool:
            return not self.force and self.stored(key)

        def work(update) -> bool:
            states = storage.load_states(keys["states"])
            hidden = None if states is None else states["hidden"]
            if hidden is None or not neighbors.needs_index(*hidden.shape) or ready() or cache.read_only():
                return True
            with cache.computing_lock(key):
                if ready():
                    return True
                scratch = storage.scratch_hidden(self.scratch)  # float32, when this run extracted
                built = neighbors_ivf.build(hidden if scratch is None else scratch, on_progress=update)
                meta = {"params": neighbors_ivf.params(), "states": keys["states"]}
                storage.save_neighbor_index(key, built, meta, replace=self.force)
                return False

        self.hits.append(self.timed("neighbors", "Indexing the states for nearest neighbours", 1, work))

    def plan(self, keys: dict[str, str], method: str) -> None:
        """Share what is left of the bar by what this run will do: extracting stored states and a
        stored projection take a sliver, a projection to compute its method's cost."""

        def stored(*names: str) -> bool:
            return not self.force and all(arrays.contains(keys[name]) for name in names)

        factors = {"project": STORED_SHARE if stored("projection") else PROJECT_COST[method]}
        if stored("states", "analysis"):
            factors["extract"] = STORED_SHARE
        self.stages.reweigh(factors)

    def stored(self, key: str) -> bool:
        """Whether the artefact of ``key`` is stored whole. A damaged one counts as absent: why is
        logged and kept in the summary's ``rebuilt`` (kind -> reason), and this run rebuilds it."""
        if arrays.contains(key):
            return True
        problem, kind = arrays.damage(key), key.partition(":")[0]
        if problem is not None and kind not in self.extra.get("rebuilt", {}):
            log.warning("Rebuilding the %s artefact %s: it is damaged (%s).", kind, key, problem)
            self.extra.setdefault("rebuilt", {})[kind] = problem
        return False

    def summary(self, analysis: Analysis, method: str, accuracy: float, dataset: str, profile: str) -> dict:
        self.seconds["total"] = round(sum(self.seconds.values()), 3)
        return {
            "dataset": dataset,
            "dataset_id": analysis.dataset,
            "classes": analysis.class_names,
            "test_accuracy": round(accuracy, 4),
            "n_sequences": analysis.n_sequences,
            "n_hidden_states": analysis.n_states,
            "projection": method,
            "seconds": self.seconds,
            "cached": all(self.hits),
            "cell_type": analysis.summary.get("cell_type"),
            "units": analysis.summary.get("units"),
            "profile": profile,
            **self.extra,
        }


def _writable(key: str) -> None:
    if isinstance(cache.store_for(key), cache.ReadOnlyCache):
        raise PrepareError(DEMO_MESSAGE)
