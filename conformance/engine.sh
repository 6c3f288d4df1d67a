#!/usr/bin/env bash
# A private single-node Docker Swarm for the conformance suite.
#
#   conformance/engine.sh start    install docker.io + busybox-static if missing,
#                                  start dockerd (own data root, exec root, socket),
#                                  swarm init on 127.0.0.1, build the test images
#   conformance/engine.sh stop     leave the swarm, stop dockerd, remove its folder
#   conformance/engine.sh status   exit 0 when the engine answers
#   conformance/engine.sh env      print `export DOCKER_HOST=...` for this engine
#   conformance/engine.sh install  only install the packages (used by cluster.sh)
#   conformance/engine.sh build    only build the test images into the engine at
#                                  the caller's $DOCKER_HOST (used by cluster.sh)
#
# The engine must never reach outside this machine: dockerd gets
# DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 (the swarm executor does not pull),
# no bridge and no iptables rules, and the swarm listens on 127.0.0.1 only.
# The folder is $SWARMSIM_ENGINE_DIR (default /tmp/swarmsim-conform): short,
# because a unix socket path must stay under 108 bytes. Several engines can
# run side by side: each has its own folder, containerd namespace (named
# after the folder) and swarm port ($SWARMSIM_SWARM_PORT, e.g. for
# deploy/swarm/test.sh or conformance/snapshot-test.sh; default: the first
# free port from 12377 on, so that two private engines never share one).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="${SWARMSIM_ENGINE_DIR:-/tmp/swarmsim-conform}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
# The containerd namespace: unique per folder.
CNS="ssim-$(basename "$DIR" | tr -c 'a-zA-Z0-9_\n-' '_')"
# The Debian CLI matches the Debian engine; another docker (e.g. a newer static
# client in /usr/local/bin) would print other formats.
DOCKER="${SWARMSIM_DOCKER:-/usr/bin/docker}"
CALLER_HOST="${DOCKER_HOST:-}"
export DOCKER_HOST="unix://$SOCK"

say() { echo "engine: $*" >&2; }

install_packages() {
    local missing=()
    [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || missing+=(docker.io)
    [ -x /bin/busybox ] && /bin/busybox --help 2>/dev/null | grep -q 'statically linked' \
        || dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
    command -v gcc >/dev/null || missing+=(gcc libc6-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# The swarm's listen port: $SWARMSIM_SWARM_PORT, else the first port from
# 12377 on that nothing listens on (so that two private swarms on this
# machine never both want 127.0.0.1:2377).
swarm_port() {
    if [ -n "${SWARMSIM_SWARM_PORT:-}" ]; then echo "$SWARMSIM_SWARM_PORT"; return; fi
    local p=12377
    while ss -Hltn "sport = :$p" 2>/dev/null | grep -q . \
        || grep -qi ":$(printf '%04X' "$p") " /proc/net/tcp 2>/dev/null; do
        p=$((p + 1))
    done
    echo "$p"
}

running() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null \
        && "$DOCKER" version >/dev/null 2>&1
}

build_images() {
    local b="$DIR/build"
    rm -rf "$b"; mkdir -p "$b/bin"
    gcc -static -O2 -o "$b/testprog" "$HERE/testprog.c"
    cp /bin/busybox "$b/bin/busybox"
    # `docker build` of each behaviour tag; the behaviour is baked in as ENV.
    while read -r tag envs; do
        [ -z "$tag" ] || [ "${tag#\#}" != "$tag" ] && continue
        {
            echo "FROM scratch"
            echo "COPY bin/busybox /bin/busybox"
            echo "COPY bin/busybox /bin/sh"
            echo "COPY testprog /testprog"
            for e in $envs; do echo "ENV $e"; done
            echo "ENTRYPOINT [\"/testprog\"]"
        } > "$b/Dockerfile.$tag"
        "$DOCKER" build -q -f "$b/Dockerfile.$tag" -t "swarmsim-test:$tag" "$b" >/dev/null
        say "built swarmsim-test:$tag ($envs)"
    done < "$HERE/images.txt"
}

start() {
    install_packages
    if running; then say "already running ($DOCKER_HOST)"; return 0; fi
    mkdir -p "$DIR"
    say "starting dockerd in $DIR"
    # setsid: the engine outlives this script and is stopped by `stop`.
    # nice -10 (inherited by containerd, its shims and the containers): the
    # engine's timing is what the suite measures, and on a machine shared
    # with compilers it would otherwise wait for the CPU (docs/conformance.md,
    # Noise). Harmless on a quiet machine; only a warning when not root.
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid nice -n "${SWARMSIM_ENGINE_NICE:--10}" /usr/sbin/dockerd \
        --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$PIDFILE" \
        -H "unix://$SOCK" --bridge none --iptables=false --ip-masq=false \
        --containerd-namespace "$CNS" \
        --containerd-plugins-namespace "$CNS-plugins" \
        > "$LOG" 2>&1 < /dev/null &
    local i
    for i in $(seq 1 100); do
        if "$DOCKER" version >/dev/null 2>&1; then break; fi
        if [ $i -eq 100 ] || ! kill -0 $! 2>/dev/null; then
            say "dockerd did not start; last lines of $LOG:"
            tail -n 15 "$LOG" >&2 || true
            return 1
        fi
        sleep 0.2
    done
    if ! "$DOCKER" info --format '{{.Swarm.LocalNodeState}}' | grep -qx active; then
        local port; port="$(swarm_port)"
        "$DOCKER" swarm init --advertise-addr "127.0.0.1:$port" --listen-addr "127.0.0.1:$port" >/dev/null
        say "swarm listens on 127.0.0.1:$port"
    fi
    build_images
    say "ready: export DOCKER_HOST=$DOCKER_HOST"
}

stop() {
    if [ -f "$PIDFILE" ]; then
        local pid; pid="$(cat "$PIDFILE")"
        "$DOCKER" swarm leave --force >/dev/null 2>&1 || true
        kill "$pid" 2>/dev/null || true
        local i
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    # Container mounts under the data root must go before the folder can.
    if [ -d "$DIR" ]; then
        { grep -o " $DIR/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$DIR"
    fi
    say "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if running; then echo "running: DOCKER_HOST=$DOCKER_HOST"; else echo "not running"; exit 1; fi ;;
    env) echo "export DOCKER_HOST=$DOCKER_HOST" ;;
    install) install_packages ;;
    build) export DOCKER_HOST="$CALLER_HOST"; mkdir -p "$DIR"; build_images; rm -rf "$DIR" ;;
    *) echo "usage: $0 start|stop|status|env|install|build" >&2; exit 2 ;;
esac
