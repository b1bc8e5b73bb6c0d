#include "relay/protocol/fmp4/init_segment.hpp"

#include <algorithm>
#include <array>

#include "relay/protocol/fmp4/box_writer.hpp"

namespace anchorcast::fmp4 {
namespace {

// §8.2.2.2: the unity matrix { 1, 0, 0, 0, 1, 0, 0, 0, 0x4000 } in 16.16 / 2.30.
constexpr std::array<uint32_t, 9> kUnityMatrix = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
// ISO 639-2/T "und" packed into three 5-bit letters (§8.4.2.3).
constexpr uint16_t kLanguageUndetermined = ('u' - 0x60) << 10 | ('n' - 0x60) << 5 | ('d' - 0x60);

void matrix(BoxWriter& w) {
  for (uint32_t v : kUnityMatrix) w.u32(v);
}

void write_ftyp(BoxWriter& w, size_t track_count) {
  Box ftyp(w, "ftyp");
  w.fourcc("iso6");  // major brand: ISO BMFF with the 64-bit tfdt and signed trun offsets we write
  w.u32(0);          // minor version
  w.fourcc("iso6");
  w.fourcc("mp41");
  // CMAF (ISO/IEC 23000-19 §7.2) allows one track per file: only a single-track init
  // claims the CMAF brand; a muxed audio + video one is plain fragmented ISO BMFF.
  if (track_count == 1) w.fourcc("cmfc");
}

void write_mvhd(BoxWriter& w, uint32_t next_track_id) {
  Box mvhd(w, "mvhd", 0, 0);
  w.u32(0);       // creation_time
  w.u32(0);       // modification_time
  w.u32(1000);    // timescale: only the (zero) movie duration uses it
  w.u32(0);       // duration: unknown, live (§8.8.1: fragments may follow)
  w.u32(0x00010000);  // rate 1.0
  w.u16(0x0100);      // volume 1.0
  w.zeros(2 + 8);     // reserved
  matrix(w);
  w.zeros(6 * 4);  // pre_defined
  w.u32(next_track_id);
}

void write_tkhd(BoxWriter& w, const TrackConfig& t) {
  Box tkhd(w, "tkhd", 0, 0x000003);  // track_enabled | track_in_movie
  w.u32(0);  // creation_time
  w.u32(0);  // modification_time
  w.u32(t.track_id);
  w.u32(0);  // reserved
  w.u32(0);  // duration
  w.zeros(8);
  w.u16(0);  // layer
  w.u16(0);  // alternate_group
  w.u16(t.kind == MediaKind::audio ? 0x0100 : 0);  // volume
  w.u16(0);
  matrix(w);
  w.u32(uint32_t{t.width} << 16);  // 16.16 fixed point
  w.u32(uint32_t{t.height} << 16);
}

void write_mdhd(BoxWriter& w, const TrackConfig& t) {
  Box mdhd(w, "mdhd", 0, 0);
  w.u32(0);  // creation_time
  w.u32(0);  // modification_time
  w.u32(t.timescale);
  w.u32(0);  // duration
  w.u16(kLanguageUndetermined);
  w.u16(0);  // pre_defined
}

void write_hdlr(BoxWriter& w, const TrackConfig& t) {
  Box hdlr(w, "hdlr", 0, 0);
  w.u32(0);  // pre_defined
  w.fourcc(t.kind == MediaKind::video ? "vide" : "soun");
  w.zeros(3 * 4);
  w.string(t.kind == MediaKind::video ? "VideoHandler" : "SoundHandler");
}

// §8.5.2.2 VisualSampleEntry, then the avcC/hvcC box.
void write_visual_sample_entry(BoxWriter& w, const TrackConfig& t) {
  const bool hevc = t.codec == Codec::hevc;
  Box entry(w, hevc ? "hvc1" : "avc1");
  w.zeros(6);  // reserved
  w.u16(1);    // data_reference_index: the one dref entry
  w.u16(0);    // pre_defined
  w.u16(0);    // reserved
  w.zeros(3 * 4);  // pre_defined
  w.u16(t.width);
  w.u16(t.height);
  w.u32(0x00480000);  // horizresolution 72 dpi
  w.u32(0x00480000);  // vertresolution
  w.u32(0);           // reserved
  w.u16(1);           // frame_count
  w.zeros(32);        // compressorname: empty Pascal string
  w.u16(0x0018);      // depth: colour, no alpha
  w.u16(0xFFFF);      // pre_defined = -1
  Box config(w, hevc ? "hvcC" : "avcC");
  w.bytes(t.decoder_config);
}

// 14496-1 §8.3.3: an expandable size, 7 bits a byte, high bit "more follows".
void descriptor_header(BoxWriter& w, uint8_t tag, size_t size) {
  w.u8(tag);
  int shift = 21;
  while (shift > 0 && (size >> shift) == 0) shift -= 7;
  for (; shift > 0; shift -= 7) w.u8(static_cast<uint8_t>(0x80 | ((size >> shift) & 0x7F)));
  w.u8(static_cast<uint8_t>(size & 0x7F));
}

size_t descriptor_size(size_t payload) {
  size_t header = 2;  // tag + one size byte
  for (size_t rest = payload >> 7; rest > 0; rest >>= 7) ++header;
  return header + payload;
}

// 14496-14 §5.6 `esds`: an ES_Descriptor with the DecoderConfigDescriptor (AAC: object
// type 0x40, audio stream) holding the AudioSpecificConfig, and the MP4 SLConfig (2).
void write_esds(BoxWriter& w, const TrackConfig& t) {
  Box esds(w, "esds", 0, 0);
  const size_t specific = descriptor_size(t.decoder_config.size());
  const size_t decoder_config = descriptor_size(13 + specific);
  const size_t sl_config = descriptor_size(1);
  descriptor_header(w, 0x03, 3 + decoder_config + sl_config);  // ES_DescrTag
  w.u16(0);  // ES_ID: 0 in a file (14496-14 §3.1.2)
  w.u8(0);   // no dependsOn, URL or OCR stream; priority 0
  descriptor_header(w, 0x04, 13 + specific);  // DecoderConfigDescrTag
  w.u8(0x40);        // objectTypeIndication: Audio ISO/IEC 14496-3
  w.u8(0x05 << 2 | 0x01);  // streamType audio, upStream 0, reserved 1
  w.u24(0);          // bufferSizeDB: unknown
  w.u32(0);          // maxBitrate: unknown (a live source)
  w.u32(0);          // avgBitrate: variable
  descriptor_header(w, 0x05, t.decoder_config.size());  // DecSpecificInfoTag
  w.bytes(t.decoder_config);
  descriptor_header(w, 0x06, 1);  // SLConfigDescrTag
  w.u8(0x02);                     // predefined: MP4 files
}

// §12.2.3 AudioSampleEntry.
void write_audio_sample_entry(BoxWriter& w, const TrackConfig& t) {
  Box entry(w, "mp4a");
  w.zeros(6);
  w.u16(1);    // data_reference_index
  w.zeros(8);  // reserved
  w.u16(t.channels);
  w.u16(16);  // samplesize
  w.u16(0);   // pre_defined
  w.u16(0);   // reserved
  // 16.16 fixed point; rates past 65535 Hz do not fit, and the timescale is the truth.
  w.u32(t.sample_rate <= 0xFFFF ? t.sample_rate << 16 : 0);
  write_esds(w, t);
}

void write_stbl(BoxWriter& w, const TrackConfig& t) {
  Box stbl(w, "stbl");
  {
    Box stsd(w, "stsd", 0, 0);
    w.u32(1);  // entry_count
    if (t.kind == MediaKind::video)
      write_visual_sample_entry(w, t);
    else
      write_audio_sample_entry(w, t);
  }
  // §8.8.1: a fragmented file's samples are all in its fragments; the tables are empty.
  {
    Box stts(w, "stts", 0, 0);
    w.u32(0);
  }
  {
    Box stsc(w, "stsc", 0, 0);
    w.u32(0);
  }
  {
    Box stsz(w, "stsz", 0, 0);
    w.u32(0);  // sample_size
    w.u32(0);  // sample_count
  }
  {
    Box stco(w, "stco", 0, 0);
    w.u32(0);
  }
}

void write_trak(BoxWriter& w, const TrackConfig& t) {
  Box trak(w, "trak");
  write_tkhd(w, t);
  Box mdia(w, "mdia");
  write_mdhd(w, t);
  write_hdlr(w, t);
  Box minf(w, "minf");
  if (t.kind == MediaKind::video) {
    Box vmhd(w, "vmhd", 0, 1);  // flags 1 (§12.1.2)
    w.u16(0);                   // graphicsmode: copy
    w.zeros(3 * 2);             // opcolor
  } else {
    Box smhd(w, "smhd", 0, 0);
    w.u16(0);  // balance: centre
    w.u16(0);
  }
  {
    Box dinf(w, "dinf");
    Box dref(w, "dref", 0, 0);
    w.u32(1);
    Box url(w, "url ", 0, 1);  // flags 1: the media data is in this file
  }
  write_stbl(w, t);
}

void write_mvex(BoxWriter& w, std::span<const TrackConfig> tracks) {
  Box mvex(w, "mvex");
  for (const auto& t : tracks) {
    Box trex(w, "trex", 0, 0);
    w.u32(t.track_id);
    w.u32(1);  // default_sample_description_index
    w.u32(0);  // default_sample_duration: every trun says
    w.u32(0);  // default_sample_size
    w.u32(0);  // default_sample_flags
  }
}

}  // namespace

void write_init_segment(std::span<const TrackConfig> tracks, std::vector<uint8_t>& out) {
  BoxWriter w(out);
  write_ftyp(w, tracks.size());
  Box moov(w, "moov");
  uint32_t next_track_id = 1;
  for (const auto& t : tracks) next_track_id = std::max(next_track_id, t.track_id + 1);
  write_mvhd(w, next_track_id);
  for (const auto& t : tracks) write_trak(w, t);
  write_mvex(w, tracks);
}

}  // namespace anchorcast::fmp4
