// The guest console on kiln's stdio: stdin (raw when it is a terminal) feeds the UART or the
// virtio console; Ctrl-A x quits kiln. Guest output reaches stdout through ConsoleOutput
// (console_output.h), which keeps the UART's and the virtio console's lines whole.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "common/result.h"
#include "common/terminal.h"
#include "common/unique_fd.h"
#include "vmm/stop_controller.h"

namespace kiln {

class Console {
 public:
  // Takes what it can of the input and returns how many bytes it took (e.g. Serial::enqueue_input).
  using InputSink = std::function<size_t(std::span<const uint8_t>)>;

  [[nodiscard]] static Result<std::unique_ptr<Console>> start(InputSink sink, StopController* stop);
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;
  ~Console();  // stops the reader thread, then restores the terminal

  // While paused, input is held in kiln (never handed to a device); pause() returns once no
  // delivery is in progress.
  void pause();
  void resume();

 private:
  Console(InputSink sink, StopController* stop) : sink_(std::move(sink)), stop_(stop) {}
  void pump();
  // Hands input to the UART as it makes room; false when the console is closing.
  bool deliver(std::span<const uint8_t> input);

  InputSink sink_;
  std::mutex sink_mu_;  // held across sink_ calls
  bool paused_ = false;
  StopController* stop_;
  std::unique_ptr<RawTerminal> terminal_;
  UniqueFd quit_;  // eventfd that ends pump()
  std::thread reader_;
};

}  // namespace kiln
