// httplib::Stream over one accepted unix-socket connection (cpp-httplib 0.11 has no AF_UNIX
// server, but its request parser runs on any Stream). Reads are buffered, because httplib reads
// request lines one byte at a time; every read and write waits at most `timeout` for the peer.
#pragma once

#include <httplib.h>

#include <array>
#include <chrono>

#include "common/unique_fd.h"

namespace kiln::api {

class FdStream final : public httplib::Stream {
 public:
  FdStream(UniqueFd fd, std::chrono::milliseconds timeout) : fd_(std::move(fd)), timeout_(timeout) {}

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_.get(); }

  // Bytes already read from the socket and not yet consumed (a pipelined next request).
  [[nodiscard]] bool has_buffered_data() const { return begin_ < end_; }
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  [[nodiscard]] bool wait_for(short events) const;

  UniqueFd fd_;
  std::chrono::milliseconds timeout_;
  std::array<char, 4096> buffer_{};
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace kiln::api
