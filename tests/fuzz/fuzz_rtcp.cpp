// libFuzzer target: compound RTCP parsing, and the builders fed with what was parsed.
// Invariant: what we build from parsed reports and NACKs parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "relay/protocol/rtcp/rtcp_builder.hpp"
#include "relay/protocol/rtcp/rtcp_packet.hpp"

using namespace anchorcast::rtcp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  (void)looks_like_rtcp(in);
  CompoundRtcp parsed;
  if (!parse_rtcp(in, parsed).ok()) return 0;
  if (parsed.nacks.size() > kMaxNackedSequences) std::abort();
  for (const auto& c : parsed.cnames)
    if (reinterpret_cast<const uint8_t*>(c.cname.data()) < data ||
        reinterpret_cast<const uint8_t*>(c.cname.data()) + c.cname.size() > data + size)
      std::abort();

  std::vector<uint8_t> out;
  const size_t blocks = std::min<size_t>(parsed.report_blocks.size(), 31);
  std::span<const ReportBlock> reports(parsed.report_blocks.data(), blocks);
  SenderInfo sender = parsed.sender_reports.empty() ? SenderInfo{} : parsed.sender_reports.front();
  if (!append_sender_report(sender, reports, out).ok()) std::abort();
  if (!append_receiver_report(1, reports, out).ok()) std::abort();
  if (!parsed.cnames.empty() && !append_sdes_cname(1, parsed.cnames.front().cname, out).ok()) std::abort();
  std::vector<uint16_t> lost;
  for (const auto& n : parsed.nacks) lost.push_back(n.sequence);
  if (!lost.empty() && !append_nack(1, 2, lost, out).ok()) std::abort();
  append_pli(1, 2, out);
  CompoundRtcp again;
  if (!parse_rtcp(out, again).ok()) std::abort();
  if (again.report_blocks.size() != 2 * blocks) std::abort();
  return 0;
}
