// A viewer's zero-copy writes on a libuv stream, shared by RTMP play and HTTP-FLV. The
// batch goes straight to the socket first (uv_try_write): a viewer that keeps up costs
// one writev and nothing else. Only what a full socket refuses is queued (uv_write),
// because uv_write drops POLLOUT interest each time its queue drains: one epoll_ctl per
// write, measured as many as the writes. No allocation per write: the iovecs and the
// batch are reused (what a burst grew is given back: clear_and_trim.hpp). While a write
// is queued the batch belongs to it; if the writer goes first, the write finishes on
// its own and frees it. Loop thread only.
//
// `Batch` has for_each_span(fn(std::span<const uint8_t>)), size_bytes(), clear().
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "anchorcast/core/metrics.hpp"
#include "relay/egress/clear_and_trim.hpp"

namespace anchorcast {

template <class Batch>
class StreamWriter {
 public:
  // Hears how a queued write ended (never about one that write() finished itself).
  class Listener {
   public:
    virtual void on_written() = 0;
    // `status` is libuv's; not called for UV_ECANCELED (the socket is being closed).
    virtual void on_write_failed(int status) = 0;

   protected:
    ~Listener() = default;
  };

  enum class Sent { all, queued, failed };
  struct Result {
    Sent sent;
    int status = 0;  // libuv's error when failed
  };

  // `socket` outlives this writer; `egress_bytes` counts what was written.
  StreamWriter(uv_stream_t* socket, Counter& egress_bytes, Listener& listener)
      : socket_(socket), listener_(listener), write_(std::make_unique<Write>()) {
    write_->writer = this;
    write_->egress_bytes = &egress_bytes;
    write_->req.data = write_.get();
  }
  ~StreamWriter() {
    // libuv still holds the write: its callback frees it (and counts what it sent).
    if (in_flight_) write_.release()->writer = nullptr;
  }
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  // Where the next write's bytes go. Not while a write is queued.
  Batch& batch() { return write_->batch; }
  const Batch& batch() const { return write_->batch; }

  // Writes the batch (not empty). `all`: it went out now and the batch is empty again;
  // `queued`: the rest waits for room and the listener hears when; `failed`: the
  // socket is broken. Refused (UV_EAGAIN, so queued) while other writes wait on the
  // socket, so these bytes never overtake them.
  Result write() {
    Write& w = *write_;
    w.bufs.clear();
    w.batch.for_each_span([&bufs = w.bufs](std::span<const uint8_t> span) {
      bufs.push_back(uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(span.data())),
                                 static_cast<unsigned>(span.size())));
    });
    int sent = uv_try_write(socket_, w.bufs.data(), static_cast<unsigned>(w.bufs.size()));
    if (sent < 0 && sent != UV_EAGAIN) return {Sent::failed, sent};
    size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
    if (done == w.batch.size_bytes()) {
      w.egress_bytes->add(done);
      w.batch.clear();
      clear_and_trim(w.bufs, kKeptBufs);
      return {Sent::all};
    }
    skip_written(w.bufs, done);
    int rc = uv_write(&w.req, socket_, w.bufs.data(), static_cast<unsigned>(w.bufs.size()), &StreamWriter::on_written);
    if (rc != 0) return {Sent::failed, rc};
    in_flight_ = true;
    return {Sent::queued};
  }

  // Drops the first `bytes` of `bufs` (what a partial write took).
  static void skip_written(std::vector<uv_buf_t>& bufs, size_t bytes) {
    size_t whole = 0;
    while (whole < bufs.size() && bytes >= bufs[whole].len) bytes -= bufs[whole++].len;
    bufs.erase(bufs.begin(), bufs.begin() + static_cast<std::ptrdiff_t>(whole));
    if (bytes > 0) {
      bufs.front().base += bytes;
      bufs.front().len -= bytes;
    }
  }

 private:
  static constexpr size_t kKeptBufs = 32;

  struct Write {
    uv_write_t req{};
    StreamWriter* writer = nullptr;  // null once the writer is gone: the write finishes alone
    Counter* egress_bytes = nullptr;
    Batch batch;
    std::vector<uv_buf_t> bufs;
  };

  static void on_written(uv_write_t* req, int status) {
    auto* w = static_cast<Write*>(req->data);
    size_t bytes = w->batch.size_bytes();
    w->batch.clear();  // the packets can go now
    clear_and_trim(w->bufs, kKeptBufs);
    if (status >= 0) w->egress_bytes->add(bytes);
    StreamWriter* self = w->writer;
    if (!self) {
      delete w;
      return;
    }
    self->in_flight_ = false;
    if (status >= 0) return self->listener_.on_written();
    if (status != UV_ECANCELED) self->listener_.on_write_failed(status);
  }

  uv_stream_t* socket_;
  Listener& listener_;
  std::unique_ptr<Write> write_;  // reused; handed to libuv while queued
  bool in_flight_ = false;
};

}  // namespace anchorcast
