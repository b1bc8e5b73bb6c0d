// One WHEP viewer's receive half: ICE-lite, DTLS, SRTCP in, the data channel. Lives on
// the WebRTC I/O thread only; the server hands it datagrams and a send batch. Once DTLS
// is up its media goes out from a MediaSender on a data-plane loop (media_sender.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "anchorcast/core/metrics.hpp"
#include "anchorcast/core/result.hpp"
#include "anchorcast/hub/stream.hpp"
#include "relay/egress/webrtc/dtls_transport.hpp"
#include "relay/egress/webrtc/feed/rtp_feed.hpp"
#include "relay/egress/webrtc/ice_lite_agent.hpp"
#include "relay/egress/webrtc/media_sender.hpp"
#include "relay/egress/webrtc/sctp_association.hpp"
#include "relay/egress/webrtc/srtcp_cipher.hpp"
#include "relay/egress/webrtc/sender_loop.hpp"
#include "relay/egress/webrtc/udp_socket.hpp"
#include "relay/protocol/rtcp/rtcp_packet.hpp"

namespace anchorcast::webrtc {

// What the WHEP handler negotiated for one viewer.
struct SessionSetup {
  std::string id;         // the {session} of /whep/{id}/{session}
  std::string stream_id;  // for logs
  IceCredentials local;
  std::string remote_ufrag;
  PeerFingerprint remote_fingerprint;
  std::shared_ptr<Stream> stream;  // the rendition watched: counts the viewer
  std::shared_ptr<RtpFeed> feed;
  // The offer's payload types for our codecs; nullopt: that medium is not sent.
  std::optional<uint8_t> video_payload_type;
  std::optional<uint8_t> audio_payload_type;
  // The peer's SCTP port when the answer accepted a data channel section.
  std::optional<uint16_t> remote_sctp_port;
};

// Counters the server registers once and every session bumps.
struct SessionCounters {
  Counter& nacks;            // NACKed packets requested
  Counter& retransmissions;  // of those, resent from the feed's history
  Counter& plis;             // PLI + FIR
  Counter& rtcp_dropped;     // SRTCP that failed to unprotect or parse
  Counter& dtls_dropped;     // DTLS datagrams refused without ending the association
  Counter& dtls_failed;      // handshakes that failed (bad fingerprint, alerts)
  Counter& srtp_errors;      // protect failures (never expected)
  Counter& sctp_dropped;     // DTLS application data that is no SCTP packet of ours
  Counter& dcep_dropped;     // DCEP messages that do not parse
  Counter& cues_sent;        // overlay cue and snapshot messages sent
};

// The data channel a viewer opens to receive overlay cues (issue 7).
inline constexpr std::string_view kOverlayChannelLabel = "overlay";

class WebRtcSession {
 public:
  using Clock = std::chrono::steady_clock;

  // `sender_loop`: where its media goes out once DTLS is up. `cues_ready` (any thread,
  // cheap): the sender has overlay cues for the data channel; the server then calls
  // deliver_cues().
  static Result<std::unique_ptr<WebRtcSession>> create(SessionSetup setup, const DtlsContext& dtls,
                                                       SctpLibrary& sctp, SessionCounters& counters,
                                                       SenderLoop& sender_loop, std::function<void()> cues_ready,
                                                       Clock::time_point now);
  ~WebRtcSession();  // retires the sender on its loop

  const std::string& id() const { return setup_.id; }
  const std::string& ufrag() const { return ice_.local().ufrag; }
  const IceLiteAgent& ice() const { return ice_; }

  IceLiteAgent::Check on_stun(std::span<const uint8_t> datagram, const stun::StunMessage& message,
                              const PeerAddress& from, Clock::time_point now, SendBatch& out);
  void on_dtls(std::span<const uint8_t> datagram, SendBatch& out);
  void on_rtcp(std::span<uint8_t> datagram);
  // The sender popped overlay cues: they go out on the data channel.
  void deliver_cues(SendBatch& out);
  // Timers: DTLS retransmission, the sender's reports.
  void on_tick(Clock::time_point now, SendBatch& out);
  // Ask the peer to close (DTLS close_notify) before being destroyed.
  void close(SendBatch& out);

  // Why this session should end, or nullopt while it is alive.
  std::optional<std::string> end_reason(Clock::time_point now) const;

 private:
  WebRtcSession(SessionSetup setup, SctpLibrary& sctp, SessionCounters& counters, SenderLoop& sender_loop,
                Clock::time_point now);
  void flush_dtls(SendBatch& out);
  void on_dtls_connected();
  void tell_sender_the_peer();
  // Data channel (SCTP over DTLS, DCEP, the overlay channel).
  void on_dtls_data(std::span<const uint8_t> record);
  void start_sctp();
  void on_sctp_message(uint16_t stream, uint32_t ppid, std::span<const uint8_t> message);
  void on_dcep(uint16_t stream, std::span<const uint8_t> message);
  void send_overlay_text(const std::string& text);

  SessionSetup setup_;
  SessionCounters& counters_;
  SenderLoop& sender_loop_;
  std::function<void()> cues_ready_;
  IceLiteAgent ice_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::vector<std::vector<uint8_t>> dtls_out_;  // handshake datagrams waiting for an address
  std::optional<SrtcpCipher> rtcp_in_cipher_;   // receiver reports, NACK, PLI
  std::shared_ptr<MediaSender> sender_;          // from DTLS-connected on
  std::optional<PeerAddress> sender_peer_;       // the address the sender was last told
  std::unique_ptr<CountedViewer> viewer_count_;  // counts us as a webrtc viewer of the rendition
  std::vector<uint8_t> scratch_;
  rtcp::CompoundRtcp rtcp_in_;   // reused
  Clock::time_point next_report_;
  Clock::time_point last_replay_{};
  std::string failure_;
  SctpLibrary& sctp_library_;
  std::unique_ptr<SctpAssociation> sctp_;
  // Messages usrsctp handed up during receive(), handled once it returned (we do not
  // call back into usrsctp from its upcall).
  struct InboundMessage {
    uint16_t stream = 0;
    uint32_t ppid = 0;
    std::vector<uint8_t> bytes;
  };
  std::vector<InboundMessage> inbound_;
  std::optional<uint16_t> overlay_stream_;  // set once the viewer opened "overlay"
  std::vector<FeedCuePtr> cues_;             // reused
  std::vector<uint8_t> dcep_out_;            // reused
};

}  // namespace anchorcast::webrtc
