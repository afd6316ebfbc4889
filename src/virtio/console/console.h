// virtio-console (device ID 3, virtio 0.9.5 Appendix E "Console Device"), port 0 only: the
// receiveq (queue 0) carries host input into buffers the driver posts, the transmitq (queue 1)
// carries guest output. VIRTIO_CONSOLE_F_SIZE is always offered: cols/rows hold the host terminal
// size (80x25 when kiln does not know it) and set_size() announces changes with a configuration
// interrupt. MULTIPORT (control queues, more ports) is not offered.
//
// The device does no stdio itself. Output goes to the `Output` callback, in order, on the
// device's thread. Input comes through enqueue_input() from any thread into a bounded buffer that
// survives resets; the device thread moves it into receive buffers as the driver posts them.
//
// Thread safety: enqueue_input, input_space, wait_for_input_space and set_size may be called from
// any thread at any time. The VirtioDevice methods follow the transport's rules (device.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "common/event_fd.h"
#include "virtio/console/input_buffer.h"
#include "virtio/queue_device.h"
#include "virtio/spec.h"

namespace kiln::virtio {

// Appendix E feature bits.
inline constexpr unsigned kConsoleFSize = 0;
inline constexpr unsigned kConsoleFMultiport = 1;

// Appendix E "Device configuration layout".
struct ConsoleConfig {
  uint16_t cols;
  uint16_t rows;
  uint32_t max_nr_ports;  // valid with MULTIPORT only; 1 here
};
static_assert(sizeof(ConsoleConfig) == 8);

// A terminal size in character cells; 80x25 when kiln does not know the host's.
struct WindowSize {
  uint16_t cols = 80;
  uint16_t rows = 25;
};

class ConsoleDevice final : public QueueDevice {
 public:
  using Output = std::function<void(std::span<const uint8_t>)>;

  static constexpr uint16_t kReceiveQueue = 0;
  static constexpr uint16_t kTransmitQueue = 1;
  static constexpr uint16_t kQueueSize = 256;
  // Host input held until the guest takes it; enqueue_input takes nothing more beyond this.
  static constexpr size_t kInputCapacity = 64 * 1024;
  // Most bytes copied into the device's temporary at once: a receive buffer gets at most this
  // much, a longer transmit chain is passed to Output in pieces of this size.
  static constexpr size_t kChunkBytes = 64 * 1024;
  // Chains served per wake-up before the thread yields (so reset never waits on a busy guest).
  static constexpr unsigned kBatchChains = 256;

  // `output` runs on the device thread and must not call back into this device; it may block (a
  // slow stdout holds up only the guest's console). An empty `output` discards guest output.
  explicit ConsoleDevice(Output output, WindowSize size = {});
  ~ConsoleDevice() override { reset(); }

  [[nodiscard]] std::string_view name() const override { return "console"; }
  [[nodiscard]] uint32_t device_id() const override { return kIdConsole; }
  [[nodiscard]] uint64_t features() const override;
  [[nodiscard]] uint16_t num_queues() const override { return 2; }
  [[nodiscard]] uint16_t queue_max_size(uint16_t) const override { return kQueueSize; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  void write_config(uint64_t, std::span<const uint8_t>) override {}  // every field is read-only
  // Reset stops the thread and forgets the queues; input not yet delivered stays buffered. Pause
  // parks the thread between chains (every popped chain is returned by then); meanwhile host
  // input stays buffered and a size change waits: its interrupt is raised on resume.
  // cols/rows as the guest knows them, a size change not yet announced, and the buffered input.
  void save_state(snapshot::Encoder& out) const override;
  [[nodiscard]] Status restore_state(snapshot::Decoder& in) override;

  // Host input -> guest. Takes as many bytes as fit in the buffer (whether or not a driver is
  // running) and returns that count; the rest is NOT taken and the caller retries or drops it.
  // Never blocks on the guest.
  [[nodiscard]] size_t enqueue_input(std::span<const uint8_t> bytes);
  [[nodiscard]] size_t input_space() const { return input_.space(); }
  [[nodiscard]] bool wait_for_input_space(std::chrono::milliseconds timeout) const {
    return input_.wait_for_space(timeout);
  }
  // The host terminal was resized (SIGWINCH): updates cols/rows and, when the driver negotiated
  // VIRTIO_CONSOLE_F_SIZE, raises a configuration change interrupt.
  void set_size(uint16_t cols, uint16_t rows);

 private:
  [[nodiscard]] Status on_activate() override;
  [[nodiscard]] std::vector<EventLoop::Source> extra_sources() override;
  void on_notify(uint16_t) override { service(); }
  [[nodiscard]] Status on_pause() override;
  void on_resume() override;
  void on_reset() override;

  // One round of work on both queues: the device thread's handler for every wake-up.
  void service();
  // Each returns true when it stopped at the batch limit with work possibly left.
  [[nodiscard]] bool transmit();
  [[nodiscard]] bool receive();
  void send(SplitQueue& q, const DescriptorChain& chain);
  void fill(const DescriptorChain& chain);
  void push_used(SplitQueue& q, uint16_t head, uint32_t len);

  const Output output_;
  InputBuffer input_{kInputCapacity};

  mutable std::mutex mu_;  // the fields below, shared with set_size/enqueue_input callers
  ConsoleConfig config_;
  Interrupt* interrupt_ = nullptr;  // while active
  bool size_negotiated_ = false;
  bool paused_ = false;          // between pause() and resume(): no interrupt is raised
  bool size_change_pending_ = false;  // set_size while paused: announced by resume()
  std::optional<EventFd> wake_;  // while active: input arrived, or the thread yielded

  // Device-thread state (set up before the thread starts, cleared after it stopped).
  SplitQueue* rx_ = nullptr;
  SplitQueue* tx_ = nullptr;
  std::vector<uint8_t> scratch_;
};

}  // namespace kiln::virtio
