#!/usr/bin/env bash
# Builds Gintoki's container image (what `make image` runs) and checks that
# it runs: compiles a static bin/gintoki-static (CGO_ENABLED=0), builds
# deploy/container/Containerfile FROM scratch with podman (no daemon, no
# registry: nothing is pulled), then runs the image twice: `serve --help`,
# and `gintoki serve` on a loopback port, checking that /healthz
# answers and that the process runs as the image's non-root user.
#
# Usage: scripts/image.sh
#
# Environment: GINTOKI_IMAGE (default gintoki:dev) names the image;
# GINTOKI_PODMAN_RUN_FLAGS replaces the flags given to `podman run` (see
# below).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
image=${GINTOKI_IMAGE:-gintoki:dev}

say() { echo "image: $*"; }
die() {
  echo "image: $*" >&2
  exit 1
}

scripts/deps.sh --image

# The flags `podman run` needs in unprivileged sandboxes such as CI's
# containers, harmless elsewhere: crun (podman's default runtime) refuses
# hosts that mount cgroup v1 and v2 side by side ("cgroups in hybrid mode
# not supported"), runc does not; and podman's default process limits can
# exceed the host's hard limits ("setrlimit RLIMIT_NPROC: Operation not
# permitted"), so they are set explicitly.
read -r -a run_flags <<<"${GINTOKI_PODMAN_RUN_FLAGS:---runtime runc --ulimit nofile=$(ulimit -n):$(ulimit -n) --ulimit nproc=1024:1024}"

ctx=$(mktemp -d)
container=''
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
  if [[ -n "$container" ]]; then
    podman rm -f "$container" >/dev/null 2>&1 || true
  fi
  rm -rf "$ctx"
}
trap cleanup EXIT

say "building a static gintoki"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ctx/gintoki" ./cmd/gintoki
cp /etc/ssl/certs/ca-certificates.crt "$ctx/" || die "no CA bundle at /etc/ssl/certs/ca-certificates.crt (Debian: ca-certificates)"

say "building $image from deploy/container/Containerfile"
podman build --quiet -f deploy/container/Containerfile -t "$image" "$ctx" >/dev/null
podman image inspect --format 'image: {{.Id}} {{.Size}} bytes, user {{.Config.User}}' "$image"

say "checking that it runs"
help=$(podman run --rm "${run_flags[@]}" "$image" serve --help 2>&1) || die "podman run $image serve --help failed: $help"
grep -q -- '--cache-bytes' <<<"$help" || die "serve --help in the image does not list --cache-bytes: $help"

# serve without database or broker: it listens (on a port it picks and
# logs), /healthz answers 200 and /readyz 503 until both are reachable.
container=gintoki-image-check-$$
podman run -d --name "$container" --network host "${run_flags[@]}" "$image" serve \
  --http-addr 127.0.0.1:0 --grpc-addr 127.0.0.1:0 --db-dsn 'nobody@tcp(127.0.0.1:1)/inventory' --brokers 127.0.0.1:1 >/dev/null
addr=''
for ((i = 0; ; i++)); do
  addr=$(podman logs "$container" 2>/dev/null | sed -n 's/.*"msg":"serving","http":"\([0-9.:]*\)".*/\1/p' | head -n 1)
  if [[ -n "$addr" && "$(curl -s "http://$addr/healthz" || true)" == ok ]]; then
    break
  fi
  ((i < 300)) || die "/healthz of the container did not answer within 30s: $(podman logs "$container" 2>&1 | tail -5)"
  sleep 0.1
done
pid=$(podman inspect --format '{{.State.Pid}}' "$container")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[[ "$uid" == 65532 ]] || die "the container's process runs as uid $uid, want 65532"
say "ok: $image serves /healthz on $addr as uid $uid"
