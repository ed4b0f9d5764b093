#!/usr/bin/env bash
# The first minute in the Docker image (issue 14): from `buildah run` to every figure drawn on /analytics.
#
#   bench/container_first_minute.sh [RUNS] [PORT]     (from anywhere; root, as container-check needs)
#   SKIP_BUILD=1 bench/container_first_minute.sh 2    reuse the image built last time
#
# 1. Builds the project's Dockerfile, untouched, with ../shared/tools/container-check from a snapshot
#    of the tracked files in /tmp/ctr-fm (tag localhost/project-under-check:latest); it proves /healthz.
# 2. Per run, starts the image as container-check does (buildah run, chroot isolation, host network,
#    the image's own settings: gunicorn, 2 workers, RNNX_WARMUP=1) with the dataset archives copied into
#    its /data (owned by rnnx; the image stays the Dockerfile's own) and a fresh, empty host folder
#    mounted as /cache, and times it with bench/first_minute.py --server-cmd (headless Chromium per
#    dataset; is_prepared and the warm-up's report read from that folder). buildah 1.28 ignores every
#    --volume when given two over the image's VOLUMEs, hence the copy rather than a read-only /data mount.
# One JSON object per run on stdout; the server log in /tmp/ctr-fm-run-N.log.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="$(cd "${RNNX_DATA_DIR:-$ROOT/../shared/data}" && pwd)"
RUNS="${1:-1}"
PORT="${2:-18050}"
WORK=/tmp/ctr-fm
TAG=localhost/project-under-check:latest

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  (cd "$ROOT" && git ls-files -z | xargs -0 cp --parents -t "$WORK")
  start=$(date +%s)
  (cd "$WORK" && CHECK_ENV="PORT=$PORT" CHECK_TIMEOUT=300 "$ROOT/../shared/tools/container-check" "$PORT" /healthz) >&2
  echo "image: built and checked in $(($(date +%s) - start)) s" >&2
fi
echo "image: $(buildah images --format '{{.Size}}' "$TAG" | head -1)" >&2

for run in $(seq "$RUNS"); do
  cache="$(mktemp -d /tmp/ctr-fm-cache.XXXXXX)"
  chown 10001:10001 "$cache" # the image's rnnx user
  ctr="$(buildah from "$TAG")"
  buildah copy --quiet --chown rnnx:rnnx "$ctr" "$DATA"/*.tar.gz "$DATA/SHA256SUMS" "$DATA/README.md" /data/ >/dev/null
  server="buildah run --isolation chroot --network host --env PORT=$PORT"
  server+=" --volume $cache:/cache $ctr -- gunicorn -c gunicorn.conf.py app:server"
  python "$ROOT/bench/first_minute.py" --server-cmd "$server" --base-url "http://127.0.0.1:$PORT" \
    --cache-dir "$cache" --server-log "/tmp/ctr-fm-run-$run.log" --timeout "${TIMEOUT:-600}" || true
  # first_minute.py has ended the server's process group (and waited for it); now the container.
  buildah rm "$ctr" >/dev/null || true
  root_owned="$(find "$cache" -user 0 | head -3)"
  [ -z "$root_owned" ] || echo "warning: root-owned files in the container's cache: $root_owned" >&2
  rm -rf "$cache"
done
