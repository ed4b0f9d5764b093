"""Build the missing nearest-neighbour index of a prepared set: ``python -m model.neighbors_build``.

A preparation builds the index itself (:meth:`model.prepare_run.Run.neighbors`); this entry point
serves caches prepared before it existed. The server runs it in a subprocess from its job queue
(``services.neighbors``), never in a web worker's thread::

    python -m model.neighbors_build --dataset imdb~all [--json]

Failures are one ``error: ...`` line on stderr (and, with ``--progress-lines``, an ``RNNX-ERROR`` line
for the parent process), exit code 2 for a set that is not prepared, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """The command line; prints the summary (``dataset``, ``seconds``, ``cached``) as JSON."""
    from model import cache, lifeline, prepare
    from model.prepare_cli import fail

    parser = argparse.ArgumentParser(
        prog="python -m model.neighbors_build", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dataset", required=True, help="a prepared set's id: imdb~all, an upload's id")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--progress-lines", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.progress_lines:
        lifeline.follow_parent()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        summary = prepare.build_neighbor_index(args.dataset, bars=not args.progress_lines)
    except (prepare.PrepareError, cache.CacheWriteError, KeyError, ValueError) as error:
        return fail(str(error), args.progress_lines, 2)
    except Exception as error:  # noqa: BLE001 - one line, never a traceback
        return fail(f"unexpected failure: {type(error).__name__}: {str(error)[:500]}", args.progress_lines, 1)
    print(json.dumps(summary) if args.json or args.progress_lines else f"{args.dataset}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
