// The thread that watches the resample eventfds of level-triggered irqfds (PCI INTx): after the
// guest's EOI lowered a line, it calls that line's callback, which raises the line again if the
// device still has an interrupt pending (kvm/api.txt 4.75, KVM_IRQFD_FLAG_RESAMPLE).
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "common/event_fd.h"
#include "common/result.h"

namespace kiln {

class IntxResampler {
 public:
  struct Line {
    int resample_fd = -1;            // outlives the resampler
    std::function<void()> on_eoi;  // called on the resampler's thread
  };
  [[nodiscard]] static Result<std::unique_ptr<IntxResampler>> start(std::vector<Line> lines);
  IntxResampler(const IntxResampler&) = delete;
  IntxResampler& operator=(const IntxResampler&) = delete;
  // Stops and joins the thread.
  ~IntxResampler();

 private:
  IntxResampler(std::vector<Line> lines, EventFd stop) : lines_(std::move(lines)), stop_(std::move(stop)) {}
  void run();

  std::vector<Line> lines_;
  EventFd stop_;
  std::thread thread_;
};

}  // namespace kiln
