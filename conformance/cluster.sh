#!/usr/bin/env bash
# A private Docker Swarm of several nodes on this one machine, each node a
# dockerd in its own network namespace and UTS namespace (its own hostname),
# for the multi-node conformance scenarios (see conformance/README.md and
# the reference's §14).
#
#   conformance/cluster.sh start [NAME...]  nodes (default: manager1 worker1 worker2);
#                                           the first is the manager, the others join
#                                           as workers; each gets the test images
#   conformance/cluster.sh stop             stop every node, remove namespaces, bridge,
#                                           the FORWARD rule and the folder
#   conformance/cluster.sh status           exit 0 when the manager answers
#   conformance/cluster.sh env              `export DOCKER_HOST=...` (the manager)
#   conformance/cluster.sh node down NAME   the machine stops: SIGKILL its containers,
#                                           containerd and dockerd (no goodbye to the
#                                           managers: they notice by missed heartbeats)
#   conformance/cluster.sh node up NAME     start that node's dockerd again
#
# Network: a bridge `ssbTAG` in the root namespace (no address of its own:
# the root namespace never routes to these nodes), one veth pair per node,
# the node's end `eth0` with 10.213.77.(10+i)/24 inside namespace
# `ssimTAG-nI` (TAG below).
# Those addresses exist only inside these namespaces. Each dockerd has
# --bridge none --iptables=false and DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1,
# so nothing leaves the machine. The folder is $SWARMSIM_CLUSTER_DIR
# (default /tmp/swarmsim-cluster); `nodes` in it lists `NAME SOCKET` lines.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="${SWARMSIM_CLUSTER_DIR:-/tmp/swarmsim-cluster}"
DOCKER="${SWARMSIM_DOCKER:-/usr/bin/docker}"
NET=10.213.77
NODES="$DIR/nodes"
# Namespace, bridge and veth names carry a tag of this cluster (the pid of
# the `start` that made it, kept in the folder), so that two clusters on one
# machine never share one; $SWARMSIM_CLUSTER_TAG sets it (digits, at most 7:
# an interface name has at most 15 characters).
if [ -f "$DIR/tag" ]; then TAG="$(cat "$DIR/tag")"; else TAG="${SWARMSIM_CLUSTER_TAG:-$$}"; fi
BR="ssb$TAG"

say() { echo "cluster: $*" >&2; }

# Node I (1-based): namespace, addresses, folder.
ns() { echo "ssim$TAG-n$1"; }
addr() { echo "$NET.$((10 + $1))"; }
ndir() { echo "$DIR/n$1"; }
sock() { echo "$(ndir "$1")/docker.sock"; }
dk() { local i=$1; shift; DOCKER_HOST="unix://$(sock "$i")" "$DOCKER" "$@"; }
index_of() {
    local name=$1 i=1 n s
    while read -r n s; do
        if [ "$n" = "$name" ]; then echo "$i"; return 0; fi
        i=$((i + 1))
    done < "$NODES"
    say "no node $name"; return 1
}

# Can this machine make network namespaces and veth pairs at all?
check_namespaces() {
    if ! ip netns add "ssim$TAG-probe" 2>/dev/null; then
        say "cannot create network namespaces here (ip netns add failed)"; return 1
    fi
    if ! ip link add "ssq${TAG}a" type veth peer name "ssq${TAG}b" 2>/dev/null; then
        ip netns del "ssim$TAG-probe"; say "cannot create veth pairs here"; return 1
    fi
    ip link del "ssq${TAG}a" 2>/dev/null || true
    ip netns del "ssim$TAG-probe"
}

setup_net() {
    local count=$1 i
    ip link add "$BR" type bridge
    ip link set "$BR" up
    # Bridged frames go through iptables when br_netfilter is loaded, and a
    # dockerd elsewhere may have set the FORWARD policy to DROP.
    if command -v iptables >/dev/null; then
        iptables -I FORWARD -i "$BR" -o "$BR" -j ACCEPT 2>/dev/null && touch "$DIR/forward-rule" || true
    fi
    for i in $(seq 1 "$count"); do
        ip netns add "$(ns "$i")"
        ip link add "ssv${TAG}x$i" type veth peer name "ssp${TAG}x$i"
        ip link set "ssv${TAG}x$i" master "$BR" up
        ip link set "ssp${TAG}x$i" netns "$(ns "$i")"
        ip -n "$(ns "$i")" link set "ssp${TAG}x$i" name eth0
        ip -n "$(ns "$i")" addr add "$(addr "$i")/24" dev eth0
        ip -n "$(ns "$i")" link set eth0 up
        ip -n "$(ns "$i")" link set lo up
    done
}

start_engine() {
    local i=$1 name=$2 d; d="$(ndir "$i")"
    mkdir -p "$d"
    # nsenter, not `ip netns exec` (which remounts /sys and hides the
    # cgroup mounts); unshare --uts so that each node has its own hostname.
    # nice -10 as in engine.sh (the engine's timing is what is measured).
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid nice -n "${SWARMSIM_ENGINE_NICE:--10}" \
        nsenter --net="/var/run/netns/$(ns "$i")" \
        unshare --uts sh -c "hostname '$name' && exec /usr/sbin/dockerd \
        --data-root '$d/data' --exec-root '$d/exec' --pidfile '$d/dockerd.pid' \
        -H 'unix://$(sock "$i")' --bridge none --iptables=false --ip-masq=false \
        --containerd-namespace 'ssim$TAG-n$i' --containerd-plugins-namespace 'ssim$TAG-n$i-plugins'" \
        >> "$d/dockerd.log" 2>&1 < /dev/null &
    local k
    for k in $(seq 1 150); do
        if dk "$i" version >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    say "dockerd of $name did not start; last lines of $d/dockerd.log:"
    tail -n 15 "$d/dockerd.log" >&2 || true
    return 1
}

start() {
    [ $# -gt 0 ] || set -- manager1 worker1 worker2
    if [ -f "$NODES" ] && dk 1 version >/dev/null 2>&1; then say "already running"; return 0; fi
    command -v nsenter >/dev/null && command -v unshare >/dev/null && command -v ip >/dev/null \
        || { say "nsenter, unshare and ip are needed"; return 1; }
    # The single-node script installs docker.io and friends and builds the
    # images; reuse its installer through a throw-away single engine? No:
    # install here the same way.
    SWARMSIM_ENGINE_DIR="$DIR/img" "$HERE/engine.sh" install
    case "$TAG" in ''|*[!0-9]*) say "SWARMSIM_CLUSTER_TAG must be digits, got '$TAG'"; return 1 ;; esac
    [ ${#TAG} -le 7 ] || { say "SWARMSIM_CLUSTER_TAG has more than 7 digits"; return 1; }
    check_namespaces || return 1
    mkdir -p "$DIR"
    echo "$TAG" > "$DIR/tag"
    : > "$NODES"
    setup_net $#
    local i=1 name
    for name in "$@"; do
        echo "$name $(sock "$i")" >> "$NODES"
        start_engine "$i" "$name"
        i=$((i + 1))
    done
    dk 1 swarm init --advertise-addr "$(addr 1)" --listen-addr "$(addr 1):2377" >/dev/null
    local token; token="$(dk 1 swarm join-token -q worker)"
    for i in $(seq 2 $#); do
        dk "$i" swarm join --advertise-addr "$(addr "$i")" --listen-addr "$(addr "$i"):2377" \
            --token "$token" "$(addr 1):2377" >/dev/null
    done
    # The test images: built once on the first node, loaded into the others.
    SWARMSIM_ENGINE_DIR="$DIR/img" DOCKER_HOST="unix://$(sock 1)" "$HERE/engine.sh" build
    local tags; tags="$(awk '!/^#/ && NF {print "swarmsim-test:" $1}' "$HERE/images.txt")"
    # shellcheck disable=SC2086
    dk 1 save $tags > "$DIR/images.tar"
    for i in $(seq 2 $#); do dk "$i" load -q -i "$DIR/images.tar" >/dev/null; done
    rm -f "$DIR/images.tar"
    # Wait until every node is Ready.
    local k
    for k in $(seq 1 100); do
        if [ "$(dk 1 node ls --format '{{.Status}}' | grep -c Ready)" -eq $# ]; then break; fi
        sleep 0.2
    done
    dk 1 node ls >&2
    say "ready: export DOCKER_HOST=unix://$(sock 1)"
}

# Every process of node I: its dockerd, containerd and shims (all in its
# network namespace) and its containers' processes.
node_pids() {
    local i=$1 c
    ip netns pids "$(ns "$i")" 2>/dev/null || true
    for c in $(dk "$i" ps -q 2>/dev/null); do
        dk "$i" inspect -f '{{.State.Pid}}' "$c" 2>/dev/null || true
    done
}

node_down() {
    local i; i="$(index_of "$1")"
    local pids; pids="$(node_pids "$i" | sort -u | grep -v '^0$' || true)"
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
    local k
    for k in $(seq 1 50); do
        [ -z "$(ip netns pids "$(ns "$i")" 2>/dev/null)" ] && break
        sleep 0.1
    done
    rm -f "$(ndir "$i")/dockerd.pid"
    say "node $1 stopped (SIGKILL)"
}

node_up() {
    local i; i="$(index_of "$1")"
    if dk "$i" version >/dev/null 2>&1; then say "node $1 already up"; return 0; fi
    start_engine "$i" "$1"
    say "node $1 started again"
}

stop() {
    if [ -f "$NODES" ]; then
        local i=1 n s
        while read -r n s; do
            dk "$i" swarm leave --force >/dev/null 2>&1 || true
            i=$((i + 1))
        done < "$NODES"
        i=1
        while read -r n s; do
            local pid=""
            [ -f "$(ndir "$i")/dockerd.pid" ] && pid="$(cat "$(ndir "$i")/dockerd.pid")"
            if [ -n "$pid" ]; then
                kill "$pid" 2>/dev/null || true
                local k
                for k in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            fi
            # Whatever is left in the namespace (a killed node's shims).
            local left; left="$(node_pids "$i" | sort -u | grep -v '^0$' || true)"
            # shellcheck disable=SC2086
            [ -z "$left" ] || kill -9 $left 2>/dev/null || true
            i=$((i + 1))
        done < "$NODES"
    fi
    # Only this cluster's namespaces and links (by its tag).
    local k
    for k in 1 2 3 4 5 6 7 8 9; do
        if ip netns list | grep -q "^$(ns "$k")\b"; then
            local left; left="$(ip netns pids "$(ns "$k")" 2>/dev/null || true)"
            # shellcheck disable=SC2086
            [ -z "$left" ] || kill -9 $left 2>/dev/null || true
            ip netns del "$(ns "$k")" 2>/dev/null || true
        fi
        ip link del "ssv${TAG}x$k" 2>/dev/null || true
    done
    if [ -f "$DIR/forward-rule" ]; then
        iptables -D FORWARD -i "$BR" -o "$BR" -j ACCEPT 2>/dev/null || true
    fi
    ip link del "$BR" 2>/dev/null || true
    if [ -d "$DIR" ]; then
        { grep -o " $DIR/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$DIR"
    fi
    say "stopped"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) stop ;;
    status) if [ -f "$NODES" ] && dk 1 version >/dev/null 2>&1; then echo "running: DOCKER_HOST=unix://$(sock 1)"; else echo "not running"; exit 1; fi ;;
    env) echo "export DOCKER_HOST=unix://$(sock 1)"; echo "export SWARMSIM_NODE_CTL='env SWARMSIM_CLUSTER_DIR=$DIR $HERE/cluster.sh node'" ;;
    node)
        case "${2:-}" in
            down) node_down "$3" ;;
            up) node_up "$3" ;;
            *) echo "usage: $0 node down|up NAME" >&2; exit 2 ;;
        esac ;;
    *) echo "usage: $0 start [NAME...]|stop|status|env|node down|up NAME" >&2; exit 2 ;;
esac
