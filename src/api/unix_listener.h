// The API's listening AF_UNIX socket. A path already bound by a live listener is refused; a stale
// socket file (nothing accepts on it any more) is replaced; any other kind of file is left alone.
// The socket file is removed on destruction, unless someone else has replaced it meanwhile.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln::api {

class UnixListener {
 public:
  [[nodiscard]] static Result<UnixListener> bind(const std::string& path);

  UnixListener(UnixListener&& other) noexcept;
  UnixListener& operator=(UnixListener&&) = delete;
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;
  ~UnixListener();

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  UnixListener(UniqueFd fd, std::string path, dev_t dev, ino_t ino)
      : fd_(std::move(fd)), path_(std::move(path)), dev_(dev), ino_(ino) {}

  UniqueFd fd_;
  std::string path_;  // empty once moved from
  dev_t dev_ = 0;     // identity of the socket file we created
  ino_t ino_ = 0;
};

}  // namespace kiln::api
