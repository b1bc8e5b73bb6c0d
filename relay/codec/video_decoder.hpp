// Video access units (H.264 or HEVC Packets, 4-byte NAL lengths) -> YUV frames, with
// libavcodec, tuned for live: no frame threading (each frame thread holds one more frame
// back), low-delay output. Frames come out in presentation order: a source with B-frames
// costs its reorder depth in delay, nothing more.
#pragma once

#include "anchorcast/core/result.hpp"
#include "anchorcast/media/packet.hpp"
#include "anchorcast/media/track.hpp"
#include "relay/codec/av_handles.hpp"

namespace anchorcast::codec {

class VideoDecoder {
 public:
  // threads > 1 uses slice threads only: no added delay, but it helps only sources
  // that send several slices per frame.
  explicit VideoDecoder(int threads = 1);

  // Opens a decoder for `track` (H.264: its avcC, HEVC: its hvcC becomes the extradata).
  // Called again with a different track (a publisher reconnected or changed settings),
  // it drops the old decoder and opens a new one; with the same track it does nothing.
  // drain() first to get the old decoder's last frames.
  Status open(const VideoTrack& track);
  bool is_open() const { return context_ != nullptr; }
  const VideoTrack& track() const { return track_; }

  // One access unit (4-byte NAL lengths, as media/packet.hpp says). A malformed or
  // undecodable packet is an error; the decoder stays usable and recovers at the next
  // keyframe. After each send, call receive() until it yields nullptr.
  Status send(const Packet& packet);

  // The next decoded frame, or nullptr when the decoder needs more input (or is fully
  // drained). The frame belongs to the decoder and stays valid until the next call;
  // its pts is in time_base(). Only 8-bit 4:2:0 frames are returned; others are errors.
  Result<AVFrame*> receive();

  // The time base of frame pts: that of the first packet sent since open().
  TimeBase time_base() const { return time_base_; }

  // End of stream: the frames still inside the decoder come out of receive(); after
  // that, open() again to decode more.
  Status drain();
  void close();

 private:
  Status error(const std::string& what) const;

  int threads_;
  VideoTrack track_;
  AvCodecContextPtr context_;
  AvFramePtr frame_;
  AvPacketPtr packet_;
  TimeBase time_base_ = kMillis;
  bool time_base_known_ = false;
  bool draining_ = false;
};

}  // namespace anchorcast::codec
