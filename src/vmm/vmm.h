// One kiln process's VM lifecycle behind the control API: it starts empty (or with a VM from
// the command line), builds the VM on InstanceStart or a snapshot load, runs it on the main
// thread, and forwards pause, resume and snapshot requests from the API thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "common/event_fd.h"
#include "vmm/stop_reason.h"
#include "vmm/stop_signals.h"
#include "vmm/vm.h"
#include "vmm/vmm_controller.h"

namespace kiln {

class Vmm final : public VmmController {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Vmm>> create();
  Vmm(const Vmm&) = delete;
  Vmm& operator=(const Vmm&) = delete;

  // Main thread, before the API starts: a VM built from the command line.
  [[nodiscard]] Status adopt(std::unique_ptr<Vm> vm, bool start_paused);
  // Main thread: waits for a VM (unless one was adopted) or a stop signal, then runs it until it
  // stops. `signals` were blocked in the main thread before any other thread started.
  [[nodiscard]] StopReason run(const StopSignals& signals);

  // VmmController (from the API thread).
  [[nodiscard]] VmState state() const override;
  [[nodiscard]] Status start(const VmConfig& config) override;
  [[nodiscard]] Status pause() override;
  [[nodiscard]] Status resume() override;
  [[nodiscard]] Status send_ctrl_alt_del() override;
  [[nodiscard]] Status create_snapshot(const SnapshotCreateParams& params) override;
  [[nodiscard]] Result<VmConfig> load_snapshot(const SnapshotLoadParams& params) override;
  [[nodiscard]] Status update_drive(size_t index, const std::string& path) override;
  [[nodiscard]] std::string metrics_json() override;

 private:
  explicit Vmm(EventFd wake) : wake_(std::move(wake)) {}
  [[nodiscard]] Status hand_over(std::unique_ptr<Vm> vm, bool start_paused);
  // The running VM, or an error naming what the caller wanted to do.
  [[nodiscard]] Result<Vm*> running_vm(std::string_view action) const;

  mutable std::mutex mu_;
  std::unique_ptr<Vm> vm_;  // built, then run by run() on the main thread
  bool start_paused_ = false;
  bool running_ = false;  // run() has started the VM
  bool starting_ = false;  // a start or load is building a VM outside the lock
  EventFd wake_;          // signalled when a VM is handed over
};

}  // namespace kiln
