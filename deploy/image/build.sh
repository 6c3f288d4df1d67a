#!/usr/bin/env bash
# Build a container image of swarmsim without the network: FROM scratch,
# holding the swarmsim binary, the shared libraries it links (none when it
# is static), /bin/sh (the host's, with its libraries: the Swarm deploy
# expands the task slot in a shell) and the repository's scenarios/.
#
#   deploy/image/build.sh [TAG]        default TAG: swarmsim:local
#
# The binary is $SWARMSIM, else `swarmsim` on PATH (`cargo install --path .`),
# else target/release/swarmsim. The engine is the docker CLI's current one
# ($DOCKER_HOST); $DOCKER names another docker binary.
#
# In the image: swarmsim is /usr/local/bin/swarmsim and the entrypoint, the
# scenarios are under /scenarios, and /out is the folder to mount for
# results. `docker run --rm -v "$PWD/out:/out" swarmsim:local batch
# /scenarios/planner-400.yaml --runs 100 --out /out/planner-400`.
#
# Exit codes: 0 built, 1 the build failed, 2 bad arguments or no binary.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
TAG="${1:-swarmsim:local}"
DOCKER="${DOCKER:-docker}"
if [ $# -gt 1 ]; then echo "usage: $0 [TAG]" >&2; exit 2; fi

bin="${SWARMSIM:-}"
if [ -z "$bin" ]; then
    bin="$(command -v swarmsim || true)"
    [ -n "$bin" ] || bin="$REPO/target/release/swarmsim"
fi
case "$bin" in */*) ;; *) bin="$(command -v "$bin" || true)" ;; esac
if [ ! -x "$bin" ]; then
    echo "image: no swarmsim binary (${SWARMSIM:-not on PATH, no $REPO/target/release/swarmsim});" \
        "run \`cargo install --path .\` or set SWARMSIM=/path/to/swarmsim" >&2
    exit 2
fi

ctx="$(mktemp -d "${TMPDIR:-/tmp}/swarmsim-image.XXXXXX")"
trap 'rm -rf "$ctx"' EXIT
root="$ctx/root"
mkdir -p "$root/usr/local/bin" "$root/bin" "$root/out" "$root/tmp"
cp -L "$bin" "$root/usr/local/bin/swarmsim"
cp -L "$(readlink -f /bin/sh)" "$root/bin/sh"

# The libraries and the loader of each dynamic executable, at the paths the
# executable asks for (ldd prints "name => /path (addr)" or "/path (addr)";
# for a static executable it prints nothing usable and exits 1).
copy_libs() {
    local f
    { ldd "$1" 2>/dev/null || true; } | awk '
        $2 == "=>" && $3 ~ /^\// { print $3 }
        $1 ~ /^\// { print $1 }' | sort -u | while read -r f; do
        mkdir -p "$root$(dirname "$f")"
        cp -L "$f" "$root$f"
    done
}
copy_libs "$root/usr/local/bin/swarmsim"
copy_libs "$root/bin/sh"
cp -R "$REPO/scenarios" "$root/scenarios"

cat > "$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY root/ /
ENV PATH=/usr/local/bin:/bin
WORKDIR /out
ENTRYPOINT ["/usr/local/bin/swarmsim"]
EOF
if ! "$DOCKER" build -q -t "$TAG" "$ctx" >/dev/null; then
    echo "image: docker build failed" >&2
    exit 1
fi
echo "image: built $TAG from $bin ($(du -sh "$root" | cut -f1))" >&2
