#!/bin/bash
# Two builds of anchorcast side by side in one run: fan-out (RTMP and HTTP-FLV), WHEP and
# the merchant control channel, alternating A and B so drift in the machine's load hits
# both alike. For "no regression" claims (a refactor, a hardening change).
#
#   perf/compare/run.sh BUILD_A BUILD_B [ROUNDS]      e.g. ../base/build build 3
#
# Each BUILD is a build folder with anchorcast and perf/loadgen_{fanout,whep}. The load
# generators of BUILD_A drive both servers (one yardstick). FANOUT=0, WHEP=0 or CONTROL=0
# skips that test. Logs: $WORK (default
# /tmp/anchorcast-compare), one file per (test, build, round); the summary lines go to
# stdout. Needs a quiet 2-core machine (load < 1) for a result; see perf/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
A=$(cd "$1" && pwd) B=$(cd "$2" && pwd) ROUNDS=${3:-3}
work=${WORK:-/tmp/anchorcast-compare}
mkdir -p "$work"
# Before each test: wait (at most QUIET_WAIT_S, default 120) for the 1-minute load average
# to fall below 1, and print what it was, so a figure from a busy machine is visible.
quiet() {
  local deadline=$((SECONDS + ${QUIET_WAIT_S:-120}))
  while (($(awk '{print ($1 < 1.0)}' /proc/loadavg) == 0 && SECONDS < deadline)); do sleep 5; done
  cut -d' ' -f1 /proc/loadavg
}
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), A=$A B=$B"
for round in $(seq "$ROUNDS"); do
  for side in A B; do
    build=$A; [[ $side == B ]] && build=$B
    log=$work/fanout_${side}_$round.log
    if [[ ${FANOUT:-1} != 0 ]]; then  # FANOUT=0: skip the fan-out test
    load=$(quiet)
    /usr/bin/python3 "$repo/perf/fanout/run.py" --servers anchorcast --protocols rtmp,flv \
      --steps 500,1000,2000 --measure 8 --anchorcast "$build/anchorcast" --loadgen "$A/perf/loadgen_fanout" >"$log" 2>"$log.err"
    echo "fanout $side round $round (load before: $load):"
    grep -E '^\| *anchorcast' "$log" | sed 's/^/  /' || true
    fi
    log=$work/whep_${side}_$round.log
    if [[ ${WHEP:-1} != 0 ]]; then  # WHEP=0: skip the WHEP test
    load=$(quiet)
    BUILD=$build WORK=$work/whep "$repo/perf/whep/run.sh" 1000 530 200 30 15 >"$log" 2>&1 || true  # its last line may be false
    echo "whep $side round $round (load before: $load): $(grep -v '^#' "$log" | tr '\n' ' ' | cut -c1-400)"
    fi
    [[ ${CONTROL:-1} == 0 ]] && continue  # CONTROL=0: skip the control channel
    log=$work/control_${side}_$round.log
    load=$(quiet)
    /usr/bin/python3 "$repo/perf/control/loadgen.py" --binary "$build/anchorcast" --merchants 1,10,100 >"$log" 2>&1
    echo "control $side round $round (load before: $load):"
    grep -E '^\|' "$log" | sed 's/^/  /' || true
  done
done
