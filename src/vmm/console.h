// The guest console on kiln's stdio: stdin (raw when it is a terminal) feeds the UART;
// Ctrl-A x quits kiln. Guest output goes straight to stdout from the UART.
#pragma once

#include <memory>
#include <thread>

#include "common/result.h"
#include "common/terminal.h"
#include "common/unique_fd.h"
#include "devices/serial.h"
#include "vmm/stop_controller.h"

namespace kiln {

class Console {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Console>> start(std::shared_ptr<Serial> serial, StopController* stop);
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;
  ~Console();  // stops the reader thread, then restores the terminal

 private:
  Console(std::shared_ptr<Serial> serial, StopController* stop) : serial_(std::move(serial)), stop_(stop) {}
  void pump();
  // Hands input to the UART as it makes room; false when the console is closing.
  bool deliver(std::span<const uint8_t> input);

  std::shared_ptr<Serial> serial_;
  StopController* stop_;
  std::unique_ptr<RawTerminal> terminal_;
  UniqueFd quit_;  // eventfd that ends pump()
  std::thread reader_;
};

}  // namespace kiln
