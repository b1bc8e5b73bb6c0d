#!/usr/bin/env bash
# The compositor's media path against the equivalent ffmpeg CLI pipeline, on one core
# each, over the same input: decode -> overlay of a card PNG + a drawtext countdown ->
# libx264 zerolatency (same preset, bitrate, GOP). Prints CPU seconds side by side.
#
#   perf/compositor/run.sh [build-dir] [preset] [repeats]   (defaults: build-comp veryfast 3)
#
# Ours runs in perf/bench_transcode (build it first: ninja -C <build-dir> bench_transcode).
# The two alternate, `repeats` times each, so load from other processes hits both alike;
# the table gives the median and the minimum of each.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-comp}
preset=${2:-veryfast}
repeats=${3:-3}
dir=${ANCHORCAST_TRANSCODE_DIR:-/tmp/anchorcast-transcode}
export ANCHORCAST_TRANSCODE_DIR=$dir
mkdir -p "$dir"
font=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
results=$dir/results.txt
: > "$results"

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  nproc: $(nproc)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  ffmpeg: $(ffmpeg -version | head -1 | cut -d' ' -f3)"

for height in 720 1080; do
  width=$((height * 16 / 9))
  kbps=$([ "$height" -ge 1080 ] && echo 4500 || echo 2500)
  in=$dir/in_${height}p30.flv
  # Same command as bench_transcode.cpp uses when the file is missing.
  [ -f "$in" ] || ffmpeg -v error -y -f lavfi -i "testsrc2=size=${width}x${height}:rate=30,noise=alls=6:allf=t" -t 10 \
    -pix_fmt yuv420p -c:v libx264 -preset veryfast -bf 0 -g 60 -b:v ${kbps}k -maxrate ${kbps}k -bufsize ${kbps}k \
    -f flv "$in"
  # The card laid out for 1080p (480x220) scaled to the height, as bench_transcode does.
  card_w=$(( (480 * height / 1080) & ~1 )); card_h=$(( (220 * height / 1080) & ~1 ))
  margin=$(( (48 * height / 1080) & ~1 )); fontsize=$((40 * height / 1080))
  card=$dir/card_${height}.png
  ffmpeg -v error -y -f lavfi -i "color=c=0xFAFAFA@0.92:s=${card_w}x${card_h},format=rgba" -frames:v 1 "$card"

  for ((r = 0; r < repeats; r++)); do
    /usr/bin/time -f "%U %S %e" -o "$dir/ffmpeg.time" \
      ffmpeg -v error -y -threads 1 -i "$in" -i "$card" -filter_complex_threads 1 -filter_complex \
        "[0:v][1:v]overlay=x=W-w-${margin}:y=H-h-${margin},drawtext=fontfile=${font}:text='00\:%{eif\:59-t\:d\:2}':fontsize=${fontsize}:fontcolor=white:x=w-tw-${margin}:y=h-${card_h}-${margin}-th" \
        -c:v libx264 -preset "$preset" -tune zerolatency -bf 0 -g 60 -x264-params scenecut=0 \
        -b:v ${kbps}k -maxrate ${kbps}k -bufsize ${kbps}k -threads 1 -an -f null -
    /usr/bin/time -f "%U %S %e" -o "$dir/ours.time" \
      "$build/perf/bench_transcode" --benchmark_filter="BM_Transcode/${height}p30_${preset}/" \
        --benchmark_out="$dir/ours.json" --benchmark_out_format=json > /dev/null 2>&1
    /usr/bin/python3 - "$height" "$dir/ffmpeg.time" "$dir/ours.time" "$dir/ours.json" >> "$results" <<'PY'
import json, sys
height, ff_time, ours_time, ours_json = sys.argv[1:]
ff_user, ff_sys, ff_wall = map(float, open(ff_time).read().split())
our_user, our_sys, our_wall = map(float, open(ours_time).read().split())
b = json.load(open(ours_json))["benchmarks"][0]
print(height, ff_user + ff_sys, ff_wall, b["cpu_s"], our_user + our_sys, b["cpu_p99_ms"], b["p99_ms"])
PY
  done
done

/usr/bin/python3 - "$results" "$preset" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
preset = sys.argv[2]
print()
print("| input (10 s) | preset | ffmpeg CLI CPU s | ours CPU s, pipeline thread | ours CPU s, whole process | ours/ffmpeg (process) | ours p99 ms per frame, CPU / wall |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for height in ("720", "1080"):
    r = [list(map(float, row[1:])) for row in rows if row[0] == height]
    col = lambda i: [x[i] for x in r]
    med = lambda i: statistics.median(col(i))
    fmt = lambda i: f"{med(i):.2f} (min {min(col(i)):.2f})"
    print(f"| {height}p30 | {preset} | {fmt(0)} | {fmt(2)} | {fmt(3)} | {med(3) / med(0):.2f} (min/min {min(col(3)) / min(col(0)):.2f}) | "
          f"{med(4):.1f} / {med(5):.1f} |")
PY
echo
echo "runs: $repeats each, alternating; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
