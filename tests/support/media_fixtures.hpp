// Real bytes from FFmpeg 5.1 (libx264, native aac encoder) shared by the media tests.
// How each was made is next to it; the FLV file fixture is described in tests/data/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"

namespace anchorcast::fixtures {

// AVCDecoderConfigurationRecord from the FLV sequence header of
//   ffmpeg -f lavfi -i testsrc2=size=1280x720:rate=30 -t 1 -c:v libx264 -g 30 -f flv a.flv
// High profile (100), level 3.1, 1280x720, VUI timing 30 fps, high-profile fields.
inline const std::vector<uint8_t> kAvcConfig720pHigh = {
    0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
    0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83,
    0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00};
// Its SPS and PPS NAL units.
inline const std::vector<uint8_t> kSps720pHigh(kAvcConfig720pHigh.begin() + 8, kAvcConfig720pHigh.begin() + 34);
inline const std::vector<uint8_t> kPps720pHigh(kAvcConfig720pHigh.begin() + 37, kAvcConfig720pHigh.begin() + 43);

// Same, from
//   ffmpeg -f lavfi -i testsrc2=size=320x180:rate=25 -t 0.2 -c:v libx264 -profile:v baseline -f flv b.flv
// Constrained Baseline (66, constraint byte 0xc0), level 1.2, 320x180 (cropped from 320x192),
// 25 fps. No high-profile fields.
inline const std::vector<uint8_t> kAvcConfig180pBaseline = {
    0x01, 0x42, 0xc0, 0x0c, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x42, 0xc0, 0x0c, 0xd9, 0x01, 0x41, 0x9f,
    0x9f, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0xa4,
    0x80, 0x01, 0x00, 0x05, 0x68, 0xcb, 0x83, 0xcb, 0x20};
inline const std::vector<uint8_t> kSps180pBaseline(kAvcConfig180pBaseline.begin() + 8,
                                                   kAvcConfig180pBaseline.begin() + 33);
inline const std::vector<uint8_t> kPps180pBaseline(kAvcConfig180pBaseline.begin() + 36,
                                                   kAvcConfig180pBaseline.end());

// AudioSpecificConfig from the FLV AAC sequence header of the 720p file above (aac, 44.1
// kHz stereo): AAC LC + FFmpeg's backward-compatible SBR sync extension (0x2B7) with
// sbrPresentFlag 0.
inline const std::vector<uint8_t> kAsc44100Stereo = {0x12, 0x10, 0x56, 0xe5, 0x00};
// From the 180p file (48 kHz mono).
inline const std::vector<uint8_t> kAsc48000Mono = {0x11, 0x88, 0x56, 0xe5, 0x00};

// First 7 bytes of
//   ffmpeg -f lavfi -i sine=frequency=440:sample_rate=44100 -t 0.1 -c:a aac -ac 2 -f adts a.aac
// AAC LC, 44.1 kHz, stereo, aac_frame_length 345 (338 payload bytes).
inline const std::vector<uint8_t> kAdtsHeader44100Stereo345 = {0xff, 0xf1, 0x50, 0x80, 0x2b, 0x3f, 0xfc};

std::vector<uint8_t> read_file(const std::string& path);

// tests/data/small_320x180_h264_aac.flv, demuxed with our FLV parsers into the tracks
// the RTMP ingest would announce and the packets it would push (ms time base).
struct DemuxedFlv {
  TrackSet tracks;
  std::vector<PacketPtr> packets;  // in file order
};
DemuxedFlv load_small_flv();

// The packets of `base` repeated `times` times, each copy shifted by the base's length
// so the timeline continues: a longer stream made of whole closed GOPs. Packets with a
// dts at or past `period_ms` are left out so copies never overlap.
std::vector<PacketPtr> repeat_packets(const std::vector<PacketPtr>& base, int times, int64_t period_ms);

// A 7-byte H.264 access unit (one AVCC NAL: IDR when `key`, else a non-IDR slice) at
// `dts_ms` = pts, ms time base: enough for a muxer or packager to cut and count on.
PacketPtr tiny_video(int64_t dts_ms, bool key);

// Runs a shell command, returns its stdout (exit status in *status when given).
std::string run_command(const std::string& command, int* status = nullptr);
// A fresh temporary file path ending in `suffix`.
std::string temp_path(const std::string& suffix);

}  // namespace anchorcast::fixtures
