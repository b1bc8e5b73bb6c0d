// Real H.264 for the codec tests: made by the ffmpeg CLI at test time, demuxed from FLV
// with our own parsers into the VideoTrack and Packets the RTMP ingest would produce.
#pragma once

#include <string>
#include <vector>

#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"

namespace anchorcast::compositor::testing {

struct H264Stream {
  VideoTrack track;
  std::vector<Packet> packets;  // video only, decode order, ms time base
};

// Reads an FLV file's video.
H264Stream demux_flv_video(const std::string& path);

// ffmpeg -f lavfi -i testsrc2=size=WxH:rate=FPS -t SECONDS -c:v libx264 <x264_args> -f flv
H264Stream make_test_stream(int width, int height, int fps, double seconds,
                            const std::string& x264_args = "-preset veryfast -bf 0 -g 25");

}  // namespace anchorcast::compositor::testing
