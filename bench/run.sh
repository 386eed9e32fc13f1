#!/usr/bin/env bash
# The benchmark suite of issues #8 and #15 in one command: builds in Release, sets up the peers, runs W1 (capacity), W2
# (fan-out) and W3 (churn) against the whole system through the edge, Metrics.Api direct, nginx + nchan (HTTP/1.1
# and HTTP/2) and a naive ASP.NET Core SSE server, and writes docs/benchmarks.md; on request also the streaming
# core's fan-out (fanout, inproc), the edge hop (hop) and two Metrics.Api replicas on Redis (--targets ...,edge-redis;
# redis-server is installed with apt if missing). See bench/README.md.
#
#   bench/run.sh                 full scale (W1 1k/5k/10k/20k streams, W2 1k streams x 10-400/s, W3 10k cycles)
#   bench/run.sh --quick         validation scale (<= 1,000 streams, a few seconds per scenario)
#   bench/run.sh --profile       also profile the .NET processes under load (perf, dotnet-gcdump)
#   bench/run.sh --quick -- --targets edge,nchan-h2 --scenarios w1     anything after -- goes to `LoadTool suite`
#
# Every server listens on 127.0.0.1 only. Every process the suite starts is recorded in the run's pid file and
# killed when this script exits, fails or is interrupted (only those PIDs, checked against their start time).
set -euo pipefail
# One brace group, parsed whole before it runs: editing this file while a run is under way cannot break that run.
{

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0
profile=0
suite_args=()
own_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1; own_args+=("$1") ;;
        --profile) profile=1; own_args+=("$1") ;;
        --help|-h)
            sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
            echo
            echo "Suite options (after --):"
            dotnet "$repo/bench/LoadTool/bin/Release/net10.0/LoadTool.dll" --help 2>/dev/null | sed -n '/LoadTool suite/,/LoadTool report/p' | head -n -1 \
                || echo "  (build bench/LoadTool first to list them)"
            exit 0 ;;
        --) shift; suite_args=("$@"); break ;;
        --*) echo "run.sh: unknown option '$1': run.sh takes --quick, --profile and --help; the suite's options go after --, e.g. bench/run.sh ${own_args[*]+${own_args[*]} }-- $*" >&2; exit 2 ;;
        *) echo "run.sh: unexpected argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log() { printf '[%(%H:%M:%S)T] run.sh: %s\n' -1 "$*" >&2; }

# --- Peers: nginx with the nchan module (Debian packages) --------------------------------------------------------
nchan_module=/usr/lib/nginx/modules/ngx_nchan_module.so
if ! command -v nginx >/dev/null 2>&1 || [[ ! -f "$nchan_module" ]]; then
    log "installing nginx and libnginx-mod-nchan (apt)"
    if [[ $(id -u) -ne 0 ]]; then echo "run.sh: nginx + nchan are missing and installing them needs root" >&2; exit 1; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnginx-mod-nchan >/dev/null
fi
# The package may start a system nginx where there is an init system; the suite never uses it (own config, own ports).

# --- Redis for the edge-redis target (Debian package; the suite starts its own private redis-server per scenario) -----
if [[ " ${suite_args[*]:-} " == *edge-redis* && ! -x /usr/bin/redis-server ]]; then
    log "installing redis-server (apt)"
    if [[ $(id -u) -ne 0 ]]; then echo "run.sh: redis-server is missing and installing it needs root" >&2; exit 1; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

# --- Profilers (only with --profile): perf from Debian, .NET tools from NuGet into bench/.tools -----------------
if [[ $profile -eq 1 ]]; then
    if [[ ! -x /usr/bin/perf ]]; then
        log "installing linux-perf (apt)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null \
            || log "no perf: no CPU profiles (memory profiles only)"
    fi
    for tool in dotnet-gcdump; do
        if [[ ! -x "$repo/bench/.tools/$tool" ]]; then
            log "installing $tool into bench/.tools"
            dotnet tool install --tool-path "$repo/bench/.tools" "$tool" >/dev/null
        fi
    done
    suite_args+=(--profile)
fi

# --- Build in Release, one project at a time (warnings are errors, from Directory.Build.props) --------------------
for project in Metrics.Api Edge.Proxy bench/PublishHook bench/NaiveSse bench/LoadTool; do
    log "building $project (Release)"
    dotnet build "$repo/$project" -c Release -nologo -v quiet -clp:ErrorsOnly
done

# --- File descriptors: HTTP/1.1 peers hold one per stream --------------------------------------------------------
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "open files limit: $(ulimit -n) (hard $(ulimit -Hn))"

# --- Run ------------------------------------------------------------------------------------------------------------
stamp="$(date -u +%Y%m%d-%H%M%S)$([[ $quick -eq 1 ]] && echo -quick || true)"
results="$repo/bench/results/$stamp"
mkdir -p "$results"
pidfile="$results/pids"
: > "$pidfile"
suite_pid=""

cleanup() {
    local code=$?
    trap - EXIT INT TERM
    if [[ -n "$suite_pid" ]] && kill -0 "$suite_pid" 2>/dev/null; then
        kill -TERM "$suite_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$suite_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$suite_pid" 2>/dev/null || true
    fi
    # Whatever the suite could not stop itself: exactly the recorded PIDs, only while their start time matches, and
    # not zombies. Processes still exiting (nginx workers after their master) get up to 5 s before they count as left over.
    local pid start stat left
    alive() { stat="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null)" && [[ "$(cut -d' ' -f20 <<< "$stat")" == "$2" && "${stat:0:1}" != Z ]]; }
    for _ in $(seq 1 50); do
        left=0
        while read -r pid start; do [[ -n "$pid" ]] && alive "$pid" "$start" && left=1; done < "$pidfile"
        [[ $left -eq 0 ]] && break
        sleep 0.1
    done
    while read -r pid start; do
        if [[ -n "$pid" ]] && alive "$pid" "$start"; then
            log "killing leftover process $pid"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done < "$pidfile"
    exit "$code"
}
trap cleanup EXIT INT TERM

mode=()
[[ $quick -eq 1 ]] && mode=(--quick)
log "suite: results in ${results#"$repo"/}"
dotnet "$repo/bench/LoadTool/bin/Release/net10.0/LoadTool.dll" suite "${mode[@]}" --repo "$repo" --results "$results" \
    --doc "$repo/docs/benchmarks.md" "${suite_args[@]}" &
suite_pid=$!
set +e
wait "$suite_pid"
status=$?
set -e
suite_pid=""
# The suite's last --doc wins (one passed after -- replaces the default above).
doc="docs/benchmarks.md"
for ((i = 0; i < ${#suite_args[@]}; i++)); do
    if [[ "${suite_args[i]}" == --doc && -n "${suite_args[i + 1]:-}" ]]; then doc="${suite_args[i + 1]}"; fi
done
log "done (exit $status): $doc"
exit "$status"
}
