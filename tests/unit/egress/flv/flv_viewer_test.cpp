// FlvViewers: an HTTP-FLV viewer on a real loopback socket, from the response head to
// the end of the response when the stream is removed.
#include "anchorcast/egress/flv_viewer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <thread>

#include "anchorcast/hub/hub.hpp"
#include "media_fixtures.hpp"

namespace anchorcast {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// What Beast 1.81 serialized for the response before FLV moved out of the HTTP session:
// http::response<http::empty_body>, version 11, status 200, the fields below in this
// order, keep_alive(false).
TEST(FlvViewer, ResponseHeadIsWhatTheBeastSessionWrote) {
  EXPECT_EQ(flv_response_head(),
            "HTTP/1.1 200 OK\r\n"
            "Server: anchorcast/" ANCHORCAST_VERSION
            "\r\n"
            "Content-Type: video/x-flv\r\n"
            "Cache-Control: no-cache\r\n"
            "Access-Control-Allow-Origin: *\r\n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(FlvViewers, WritesTheHeadThenFlvAndEndsTheResponseWhenTheStreamIsRemoved) {
  Hub hub;
  ASSERT_TRUE(hub.add("demo", "key").ok());
  auto stream = hub.find("demo");
  auto publisher = stream->begin_publish("rtmp");
  ASSERT_TRUE(publisher.ok());
  auto flv = fixtures::load_small_flv();
  (*publisher)->set_tracks(flv.tracks);
  for (const auto& p : flv.packets) (*publisher)->push(Packet(*p));

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();

  Counter bytes;
  FlvViewers viewers(bytes, io.get_executor());
  viewers.start(std::move(server), "127.0.0.1:1", stream);
  EXPECT_EQ(viewers.size(), 1u);
  std::thread loop([&] { io.run(); });  // returns once the viewer is gone

  // The GOP cache replays at once; removing the stream ends the response.
  hub.remove("demo");
  std::string received;
  boost::system::error_code ec;
  asio::read(client, asio::dynamic_buffer(received), ec);
  loop.join();
  EXPECT_EQ(ec, asio::error::eof);

  std::string_view head = flv_response_head();
  ASSERT_GT(received.size(), head.size() + 13);
  EXPECT_EQ(received.substr(0, head.size()), head);
  EXPECT_EQ(received.substr(head.size(), 3), "FLV");
  EXPECT_EQ(bytes.value(), received.size() - head.size());  // media bytes, not the head
  EXPECT_EQ(viewers.size(), 0u);
}

}  // namespace
}  // namespace anchorcast
