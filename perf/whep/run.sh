#!/bin/bash
# One WHEP load run on a 2-core machine: the server pinned to CPU 0, the anchor (a
# pre-encoded file pushed with -c copy) and loadgen_whep pinned to CPU 1.
#
#   perf/whep/run.sh VIEWERS RATE_KBPS [RAMP_PER_S] [SECONDS] [WINDOW_S]
#     RATE_KBPS: 530 (640x360, ~600 kbit/s with audio) or 2400 (1280x720, ~2.5 Mbit/s)
#   env: BUILD (default build), UDP_GSO=0 to turn GSO off, VERIFY (default 16),
#        PERF=FILE to `perf record` the server during the window,
#        THREADS (data_plane.threads, the loops media is sent from; default 1)
#
# Prints loadgen_whep's summary line, the server's datagram/message counters and RSS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD:-$repo/build}
N=$1 RATE=$2 RAMP=${3:-200} SECS=${4:-45} WIN=${5:-20}
work=${WORK:-/tmp/anchorcast-whep-perf}
mkdir -p "$work"
src=$work/anchor_${RATE}k.flv
if [[ ! -s $src ]]; then
  size=640x360; [[ $RATE == 530 ]] || size=1280x720
  ffmpeg -hide_banner -nostdin -loglevel error -y -f lavfi -i testsrc2=size=$size:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -t 60 -c:v libx264 -profile:v baseline -bf 0 \
    -preset veryfast -tune zerolatency -g 60 -b:v ${RATE}k -maxrate ${RATE}k -bufsize ${RATE}k \
    -pix_fmt yuv420p -c:a aac -b:a 64k -f flv "$src"
fi
gso=true; [[ ${UDP_GSO:-1} == 0 ]] && gso=false
rm -rf "$work/data"; mkdir -p "$work/data"
cat >"$work/anchorcast.json" <<JSON
{
  "http": {"listen": "127.0.0.1:18480"}, "rtmp": {"listen": "127.0.0.1:18481"},
  "srt": {"listen": "127.0.0.1:18482"},
  "webrtc": {"listen": "127.0.0.1:18483", "public_ip": "127.0.0.1", "udp_gso": $gso},
  "data_plane": {"threads": ${THREADS:-1}},
  "data_dir": "$work/data", "admin_token": "perf-admin", "log_level": "warn",
  "streams": [{"id": "demo", "publish_key": "perf-demo-key", "overlay": "metadata"}]
}
JSON
taskset -c 0 "$build/anchorcast" --config "$work/anchorcast.json" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $anchor $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18480/healthz >/dev/null && break; sleep 0.1; done
taskset -c 1 ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$src" -c copy \
  -f flv rtmp://127.0.0.1:18481/live/perf-demo-key >"$work/ffmpeg.log" 2>&1 &
anchor=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18480/api/v1/streams | grep -q '"live":true' && break; sleep 0.1; done
recorder=
if [[ -n ${PERF:-} ]]; then
  (sleep $((SECS - WIN + 2)); perf record -g -p $server -o "$PERF" -- sleep $((WIN - 4)) >/dev/null 2>&1) &
  recorder=$!
fi
taskset -c 1 "$build/perf/loadgen_whep" --http 127.0.0.1:18480 --stream demo --viewers "$N" --ramp "$RAMP" \
  --seconds "$SECS" --window "$WIN" --server-pid $server --verify-every "${VERIFY:-16}" | grep -v '^tick'
curl -s http://127.0.0.1:18480/metrics | grep -E '^anchorcast_webrtc_(datagrams_sent|udp_messages)_total' | tr '\n' ' '
echo "server_rss_kib=$(awk '/VmRSS/{print $2}' /proc/$server/status)"
[[ -n $recorder ]] && wait $recorder
