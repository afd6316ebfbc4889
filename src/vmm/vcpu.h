// A vCPU thread: KVM_RUN in a loop, exits dispatched to the buses (kvm/api.txt 5: kvm_run).
#pragma once

#include <atomic>
#include <cstdint>
#include <pthread.h>
#include <thread>

#include "arch/x86_64/emulator/emulation_counters.h"
#include "devices/bus.h"
#include "kvm/vcpu_fd.h"
#include "memory/guest_memory.h"
#include "vmm/access_log.h"
#include "vmm/exit_counters.h"
#include "vmm/pause_gate.h"
#include "vmm/stop_controller.h"
#include "vmm/vcpu_profile.h"

namespace kiln {

struct VcpuContext {
  const Bus* pio = nullptr;
  const Bus* mmio = nullptr;
  StopController* stop = nullptr;
  UnhandledAccessLog* unhandled = nullptr;
  const GuestMemory* mem = nullptr;
  x86::EmulationCounters* emulated = nullptr;  // instructions kiln emulated for KVM
  PauseGate* pause = nullptr;                  // where the thread parks while the VM is paused
};

class Vcpu {
 public:
  Vcpu(uint32_t id, VcpuFd fd, VcpuContext ctx) : id_(id), fd_(std::move(fd)), ctx_(ctx) {}
  Vcpu(const Vcpu&) = delete;
  Vcpu& operator=(const Vcpu&) = delete;
  ~Vcpu();

  // The signal used to kick a vCPU out of KVM_RUN; its handler does nothing.
  static int kick_signal();
  // Installs the no-op handler (once per process).
  [[nodiscard]] static Status install_kick_handler();

  [[nodiscard]] VcpuFd& fd() { return fd_; }
  // Where the guest profiler's samples of this vCPU go; before start() (not thread-safe).
  void attach_profile(VcpuProfile* profile) { profile_ = profile; }
  // Every return from KVM_RUN, by exit reason.
  [[nodiscard]] const ExitCounters& exits() const { return exits_; }
  [[nodiscard]] Status start();
  // Makes the thread leave KVM_RUN (to stop, or to park when a pause was requested); safe to
  // call many times. Callers serialise kick() against join().
  void kick();
  void join();
  // The guest profiler: the thread records where the guest is (vcpu_sample.cpp) once KVM_RUN has
  // returned for this kick, so an I/O exit in progress completes first. Serialised against join()
  // as kick() is; requests made before the thread took the last one are merged.
  void request_sample();

 private:
  void thread_main();
  // Returns false when the loop must end.
  bool handle_exit();
  // After KVM_RUN returned for a kick: takes a requested sample, parks while paused.
  void handle_kick();
  void take_sample();
  void handle_io(kvm_run& run);
  void handle_mmio(kvm_run& run);
  // Returns true when kiln emulated the instruction and the vCPU can resume.
  bool handle_internal_error(const kvm_run& run);

  uint32_t id_;
  VcpuFd fd_;
  VcpuContext ctx_;
  ExitCounters exits_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<pthread_t> native_{};
  std::atomic<bool> sample_requested_{false};
  VcpuProfile* profile_ = nullptr;
};

}  // namespace kiln
