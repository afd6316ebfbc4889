#include "vmm/console.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

namespace kiln {
namespace {
constexpr uint8_t kEscape = 0x01;  // Ctrl-A, then 'x' quits
}

Result<std::unique_ptr<Console>> Console::start(InputSink sink, StopController* stop) {
  std::unique_ptr<Console> console(new Console(std::move(sink), stop));
  console->quit_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!console->quit_) return fail_errno("eventfd for the console");
  console->terminal_ = RawTerminal::enter(STDIN_FILENO);
  try {
    console->reader_ = std::thread([c = console.get()] { c->pump(); });
  } catch (const std::system_error& e) {
    return fail("starting the console thread: {}", e.what());
  }
  return console;
}

Console::~Console() {
  const uint64_t one = 1;
  (void)!::write(quit_.get(), &one, sizeof(one));
  if (reader_.joinable()) reader_.join();
  terminal_.reset();
}

void Console::pause() {
  std::lock_guard lock(sink_mu_);
  paused_ = true;
}

void Console::resume() {
  std::lock_guard lock(sink_mu_);
  paused_ = false;
}

bool Console::deliver(std::span<const uint8_t> input) {
  // The UART buffers a little; hold the rest while the guest drains it (pasted text is not lost),
  // but drop it after a second without progress (no driver, or loopback) so Ctrl-A x still works.
  int idle_ms = 0;
  while (!input.empty()) {
    size_t taken = 0;
    bool paused = false;
    {
      std::lock_guard lock(sink_mu_);
      paused = paused_;
      if (!paused) taken = sink_(input);
    }
    input = input.subspan(taken);
    if (input.empty()) break;
    idle_ms = taken > 0 || paused ? 0 : idle_ms + 1;
    if (idle_ms >= 1000) {
      log("console: the guest is not reading its console; dropped {} bytes of input", input.size());
      return true;
    }
    pollfd quit{quit_.get(), POLLIN, 0};
    if (::poll(&quit, 1, 1) > 0) return false;
  }
  return true;
}

void Console::pump() {
  bool escape = false;
  uint8_t buf[256];
  while (true) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {quit_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // EOF or error: the guest simply gets no more input
    std::vector<uint8_t> input;
    input.reserve(static_cast<size_t>(n));
    for (ssize_t i = 0; i < n; ++i) {
      const uint8_t c = buf[i];
      if (escape) {
        escape = false;
        if (c == 'x' || c == 'X') {
          stop_->request({StopKind::kUserQuit, "quit from the console (Ctrl-A x)"});
          return;
        }
        if (c != kEscape) input.push_back(kEscape);  // Ctrl-A Ctrl-A sends one Ctrl-A
      } else if (c == kEscape) {
        escape = true;
        continue;
      }
      input.push_back(c);
    }
    if (!deliver(input)) return;
  }
}

}  // namespace kiln
