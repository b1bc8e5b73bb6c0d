#!/usr/bin/env bash
# anchorcast's two set-up commands (and a few more):
#   ./dev.sh run     install missing Debian packages, build Release, start the server
#   ./dev.sh test    install, build, run every test (unit, e2e, fuzz smoke) through ctest
# Options for test: --sanitize (ASan+UBSan build in build-asan/), --label LABEL (ctest -L),
# --skip-label LABEL (ctest -LE), --no-fuzz. Other commands: deps, build [--sanitize], fuzz [SECONDS].
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  libuv1-dev libboost-dev nlohmann-json3-dev libssl-dev libsrt-gnutls-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev
  libpango1.0-dev libcairo2-dev fonts-noto-cjk libsrtp2-dev libusrsctp-dev
  ffmpeg python3 python3-websockets python3-numpy python3-aiortc chromium
)
# Node and npm build the web pages; Debian's packages unless a node with its npm is
# already installed (e.g. NodeSource's nodejs, which ships npm and conflicts with Debian's).
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)
JOBS=$(nproc)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing ${missing[*]}"
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  local dir=build type=Release extra=()
  if [[ ${1:-} == --sanitize ]]; then
    # -O1 -g1: line tables are all ASan's reports need; the build takes half the time of
    # -O2 -g (the Beast translation units: 108 s → 55 s each on CI's machine kind).
    dir=build-asan type=RelWithDebInfo
    extra=(-DANCHORCAST_SANITIZE=ON -DANCHORCAST_PERF=OFF
           "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")
  fi
  say "building $dir ($type)"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${extra[@]}" >/dev/null
  ninja -C "$dir" -j "$JOBS"
}

# libFuzzer targets need clang; each gets a short smoke run with the corpus it grows.
fuzz() {
  local seconds=${1:-30}
  command -v clang++ >/dev/null || { say "clang++ not found: skipping fuzz targets"; return 0; }
  say "building fuzz targets (clang)"
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANCHORCAST_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  ninja -C build-fuzz -j "$JOBS"
  local failed=0 ran=0 pids=() names=()
  # One target per core at a time: the smoke runs are CPU-bound and independent.
  for target in build-fuzz/tests/fuzz/fuzz_*; do
    [[ -x $target ]] || continue
    local name corpus
    name=$(basename "$target")
    corpus=build-fuzz/corpus/$name
    mkdir -p "$corpus"
    say "fuzz smoke: $name (${seconds}s)"
    ran=$((ran + 1))
    "$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
      -artifact_prefix=build-fuzz/"$name"- "$corpus" >build-fuzz/"$name".log 2>&1 &
    pids+=($!) names+=("$name")
    if ((${#pids[@]} >= JOBS)); then
      wait "${pids[0]}" || { tail -40 "build-fuzz/${names[0]}.log" >&2; failed=$((failed + 1)); }
      pids=("${pids[@]:1}") names=("${names[@]:1}")
    fi
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { tail -40 "build-fuzz/${names[$i]}.log" >&2; failed=$((failed + 1)); }
  done
  echo "fuzz: $((ran - failed)) passed, $failed failed"
  ((failed == 0))
}

cmd=${1:-help}
shift || true
case "$cmd" in
  deps) deps ;;
  build) deps; build "$@" ;;
  fuzz) deps; fuzz "$@" ;;
  run)
    deps
    build
    config=${ANCHORCAST_CONFIG:-config/anchorcast.json}
    host=$(hostname -I 2>/dev/null | awk '{print $1}')
    host=${host:-127.0.0.1}
    cat <<INFO

  anchorcast is starting with $config

  OBS  Settings > Stream:  Service "Custom...",
       Server      rtmp://$host:1935/live
       Stream Key  demo-key
  SRT  srt://$host:9000?streamid=demo-key   (OBS/Larix; ffmpeg: -f mpegts)
  ffmpeg test push:
       ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine -c:v libx264 \\
         -preset veryfast -tune zerolatency -g 30 -c:a aac -f flv rtmp://127.0.0.1:1935/live/demo-key

  Watch
       page      http://$host:8080/watch/demo     (WebRTC, HLS fallback)
       WHEP      POST http://$host:8080/whep/demo (WebRTC; webrtc.public_ip must be an
                 address the viewer reaches: config/anchorcast.json has 127.0.0.1)
       HLS       http://$host:8080/hls/demo/index.m3u8
       HTTP-FLV  http://$host:8080/flv/demo.flv
       RTMP      rtmp://$host:1935/live/demo      (ffplay, VLC)
  Merchants
       console   http://$host:8080/console/demo   (token: demo-merchant)
       WebSocket ws://$host:8080/control/demo?token=demo-merchant
  Add ?rendition=source to any viewer URL for the video without burned-in cards.
  Operate
       http://$host:8080/api/v1/streams   http://$host:8080/metrics   http://$host:8080/healthz

  Ctrl-C stops the server.
INFO
    exec build/anchorcast --config "$config"
    ;;
  test)
    sanitize=() label=() fuzz_too=1
    while (($#)); do
      case "$1" in
        --sanitize) sanitize=(--sanitize) ;;
        --label) label+=(-L "$2"); shift ;;
        --skip-label) label+=(-LE "$2"); shift ;;
        --no-fuzz) fuzz_too=0 ;;
        *) echo "unknown test option $1" >&2; exit 2 ;;
      esac
      shift
    done
    deps
    build "${sanitize[@]}"
    dir=build
    ((${#sanitize[@]})) && dir=build-asan
    say "running tests in $dir"
    # ASan: report leaks and errors as failures; UBSan: stop at the first report.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ctest --test-dir "$dir" --output-on-failure --timeout 600 -j "$JOBS" "${label[@]}"
    if ((fuzz_too)) && ((${#sanitize[@]} == 0)) && ((${#label[@]} == 0)); then
      fuzz "${ANCHORCAST_FUZZ_SECONDS:-30}"
    fi
    ;;
  *)
    sed -n '2,6p' "$0"
    exit 2
    ;;
esac
