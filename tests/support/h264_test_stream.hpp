// Real H.264 (and HEVC) for the codec, compositor and WebRTC transcode tests: made by the
// ffmpeg CLI at test time, demuxed with our own parsers into the VideoTrack and Packets an
// ingest would produce.
#pragma once

#include <string>
#include <vector>

#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"

namespace anchorcast::testing {

struct H264Stream {
  VideoTrack track;
  std::vector<Packet> packets;  // video only, decode order, ms time base
};

// Reads an FLV file's video.
H264Stream demux_flv_video(const std::string& path);

// ffmpeg -f lavfi -i testsrc2=size=WxH:rate=FPS -t SECONDS -c:v libx264 <x264_args> -f flv
H264Stream make_test_stream(int width, int height, int fps, double seconds,
                            const std::string& x264_args = "-preset veryfast -bf 0 -g 25");

// ffmpeg ... -c:v libx265 <x265_args> -f hevc: the Annex B stream split at its access unit
// delimiters into Packets (4-byte lengths, no parameter sets in band) and a track whose
// hvcC is built from the VPS/SPS/PPS, as an HEVC ingest would. Timestamps assume no
// B-frames (pts == dts == frame index / fps).
H264Stream make_hevc_test_stream(int width, int height, int fps, double seconds,
                                 const std::string& x265_params = "keyint=30:bframes=0");

}  // namespace anchorcast::testing
