#include "ts_inspect.hpp"

#include "relay/protocol/mpegts/crc32.hpp"

namespace anchorcast::fixtures {
namespace {

int64_t read_timestamp(const uint8_t* p) {
  return (int64_t{static_cast<uint8_t>(p[0] & 0x0E)} << 29) | (int64_t{p[1]} << 22) |
         (int64_t{static_cast<uint8_t>(p[2] & 0xFE)} << 14) | (int64_t{p[3]} << 7) | (p[4] >> 1);
}

}  // namespace

InspectedTs inspect_ts(std::span<const uint8_t> ts) {
  InspectedTs r;
  auto fail = [&](std::string e) { r.errors.push_back("packet " + std::to_string(r.packets) + ": " + e); };
  if (ts.size() % 188 != 0) r.errors.push_back("size " + std::to_string(ts.size()) + " is not a multiple of 188");
  std::map<uint16_t, int> last_cc;
  std::map<uint16_t, size_t> open_pes;  // PID -> index in r.pes
  for (size_t at = 0; at + 188 <= ts.size(); at += 188, ++r.packets) {
    const uint8_t* p = ts.data() + at;
    if (p[0] != 0x47) fail("no sync byte");
    const bool pusi = p[1] & 0x40;
    const uint16_t pid = static_cast<uint16_t>(((p[1] & 0x1F) << 8) | p[2]);
    const int afc = (p[3] >> 4) & 0x03;
    const int cc = p[3] & 0x0F;
    r.packet_pids.push_back(pid);
    if (afc == 0) fail("adaptation_field_control 0");
    if (afc & 1) {
      if (last_cc.count(pid) && ((last_cc[pid] + 1) & 0x0F) != cc) fail("continuity error on PID " + std::to_string(pid));
      last_cc[pid] = cc;
    }
    size_t pos = 4;
    bool rai = false, has_pcr = false;
    int64_t pcr = -1;
    if (afc & 2) {
      const size_t len = p[4];
      if (len > 183 || (afc == 3 && len > 182)) fail("adaptation field too long");
      if (len > 0) {
        rai = p[5] & 0x40;
        has_pcr = p[5] & 0x10;
        if (has_pcr) pcr = (int64_t{p[6]} << 25) | (int64_t{p[7]} << 17) | (int64_t{p[8]} << 9) | (int64_t{p[9]} << 1) | (p[10] >> 7);
        const size_t stuff_from = 6 + (has_pcr ? 6 : 0);
        for (size_t i = stuff_from; i < 5 + len; ++i)
          if (p[i] != 0xFF) {
            fail("stuffing byte is not 0xFF");
            break;
          }
      }
      pos = 5 + len;
    }
    if (!(afc & 1)) continue;
    std::span<const uint8_t> payload(p + pos, 188 - pos);
    if (pid == 0 || (r.pmt_pid && pid == r.pmt_pid)) {
      if (!pusi) { fail("PSI without unit start"); continue; }
      const size_t pointer = payload[0];
      auto section = payload.subspan(1 + pointer);
      const size_t section_length = ((section[1] & 0x0F) << 8) | section[2];
      if (3 + section_length > section.size()) { fail("PSI section overruns the packet"); continue; }
      if (mpegts::crc32_mpeg2(section.first(3 + section_length)) != 0) fail("PSI CRC_32 mismatch");
      if (pid == 0) {
        ++r.pat_count;
        if (section[0] != 0x00) fail("PAT table_id");
        r.pmt_pid = static_cast<uint16_t>(((section[10] & 0x1F) << 8) | section[11]);
      } else {
        ++r.pmt_count;
        if (section[0] != 0x02) fail("PMT table_id");
        r.pcr_pid = static_cast<uint16_t>(((section[8] & 0x1F) << 8) | section[9]);
        const size_t info = ((section[10] & 0x0F) << 8) | section[11];
        size_t q = 12 + info;
        while (q + 5 <= 3 + section_length - 4) {
          const uint16_t es_pid = static_cast<uint16_t>(((section[q + 1] & 0x1F) << 8) | section[q + 2]);
          r.stream_types[es_pid] = section[q];
          q += 5 + (((section[q + 3] & 0x0F) << 8) | section[q + 4]);
        }
      }
      continue;
    }
    if (pusi) {
      if (payload.size() < 9 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1) { fail("no PES start code"); continue; }
      InspectedPes pes;
      pes.pid = pid;
      pes.stream_id = payload[3];
      pes.random_access = rai;
      pes.has_pcr = has_pcr;
      pes.pcr_base = pcr;
      const int flags = payload[7] >> 6;
      const size_t header_len = payload[8];
      if (flags & 2) pes.pts = read_timestamp(&payload[9]);
      pes.dts = (flags == 3) ? read_timestamp(&payload[14]) : pes.pts;
      pes.payload.assign(payload.begin() + 9 + static_cast<std::ptrdiff_t>(header_len), payload.end());
      open_pes[pid] = r.pes.size();
      r.pes.push_back(std::move(pes));
    } else if (open_pes.count(pid)) {
      auto& pes = r.pes[open_pes[pid]];
      pes.payload.insert(pes.payload.end(), payload.begin(), payload.end());
      if (rai || has_pcr) fail("adaptation flags on a continuation packet");
    } else {
      fail("continuation without a PES start");
    }
  }
  return r;
}

}  // namespace anchorcast::fixtures
