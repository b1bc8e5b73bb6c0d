#!/usr/bin/env bash
# The WebRTC-safe transcode (issue 14) against the ffmpeg CLI doing the same transcode on
# the same input, one core each: OBS's default x264 output (3 B-frames, 2 s GOP) ->
# decode -> libx264 zerolatency Constrained Baseline, same preset, bitrate and GOP. Prints CPU
# seconds per run side by side, and our per-packet added latency (p50/p99).
#
#   perf/webrtc_transcode/run.sh [build-dir] [repeats]   (defaults: build 3)
#
# Ours runs in perf/bench_transcode (ninja -C <build-dir> bench_transcode). The two
# alternate, `repeats` times each, so load from other processes hits both alike.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
repeats=${2:-3}
dir=${ANCHORCAST_TRANSCODE_DIR:-/tmp/anchorcast-transcode}
export ANCHORCAST_TRANSCODE_DIR=$dir
mkdir -p "$dir"

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  ffmpeg: $(ffmpeg -version | head -1 | cut -d' ' -f3)"
echo "height ffmpeg_cpu_s ours_cpu_s ratio ours_p50_ms ours_p99_ms frames"
for height in 720 1080; do
  width=$((height * 16 / 9))
  kbps=$([ "$height" -ge 1080 ] && echo 4500 || echo 2500)
  preset=$([ "$height" -ge 1000 ] && echo ultrafast || echo veryfast)
  in=$dir/in_bf_${height}p30.flv
  # Same command as bench_transcode.cpp uses when the file is missing.
  [ -f "$in" ] || ffmpeg -v error -y -f lavfi -i "testsrc2=size=${width}x${height}:rate=30,noise=alls=6:allf=t" -t 10 \
    -pix_fmt yuv420p -c:v libx264 -preset veryfast -bf 3 -g 60 -b:v ${kbps}k -maxrate ${kbps}k -bufsize ${kbps}k \
    -f flv "$in"
  for ((r = 0; r < repeats; r++)); do
    /usr/bin/time -f "%U %S %e" -o "$dir/ffmpeg.time" \
      ffmpeg -v error -y -threads 1 -i "$in" -c:v libx264 -preset "$preset" -profile:v baseline -tune zerolatency -g 60 \
        -x264-params scenecut=0 -b:v ${kbps}k -maxrate ${kbps}k -bufsize ${kbps}k -threads 1 -an -f null -
    "$build/perf/bench_transcode" --benchmark_filter="BM_WebRtcSafe/${height}p30" \
      --benchmark_out="$dir/ours.json" --benchmark_out_format=json > /dev/null 2>&1
    /usr/bin/python3 - "$height" "$dir/ffmpeg.time" "$dir/ours.json" <<'PY'
import json, sys
height, ff_time, ours_json = sys.argv[1:]
ff_user, ff_sys, ff_wall = map(float, open(ff_time).read().split())
b = json.load(open(ours_json))["benchmarks"][0]
ff = ff_user + ff_sys
print(height, f"{ff:.2f}", f"{b['cpu_s']:.2f}", f"{b['cpu_s'] / ff:.2f}", f"{b['p50_ms']:.1f}", f"{b['p99_ms']:.1f}",
      int(b["frames"]))
PY
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
