#include "vmm/vcpu.h"

#include <signal.h>
#include <sys/stat.h>

#include <string>

#include "common/boot_trace.h"
#include "arch/x86_64/platform/cpu_features.h"
#include "common/log.h"
#include "vmm/emulation_fallback.h"

namespace kiln {
namespace {

void ignore_kick(int) {}

std::string hex_bytes(const uint8_t* bytes, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
  return out;
}

}  // namespace

int Vcpu::kick_signal() { return SIGRTMIN; }

Status Vcpu::install_kick_handler() {
  struct sigaction sa {};
  sa.sa_handler = ignore_kick;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
  if (::sigaction(kick_signal(), &sa, nullptr) < 0) return fail_errno("sigaction(kick signal)");
  return {};
}

Vcpu::~Vcpu() {
  kick();
  join();
}

Status Vcpu::start() {
  try {
    thread_ = std::thread([this] { thread_main(); });
  } catch (const std::system_error& e) {
    return fail("starting vCPU {} thread: {}", id_, e.what());
  }
  return {};
}

void Vcpu::kick() {
  // immediate_exit covers a kick that lands before the thread enters KVM_RUN (kvm/api.txt 5).
  __atomic_store_n(&fd_.run_state()->immediate_exit, 1, __ATOMIC_SEQ_CST);
  // Callers serialise kick() against join() (the VM's control lock; the guest profiler's thread
  // is stopped before the join), so the thread cannot be joined between this check and the signal.
  if (started_.load()) ::pthread_kill(native_.load(), kick_signal());
}

void Vcpu::join() {
  if (thread_.joinable()) thread_.join();
  started_.store(false);  // its pthread_t is dead: kick() must not signal it any more
}

void Vcpu::thread_main() {
  native_.store(::pthread_self());
  started_.store(true);
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, kick_signal());
  ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);

  if (id_ == 0) boot_trace::point("first-kvm-run");
  while (!ctx_.stop->requested()) {
    if (auto ran = fd_.run(); !ran) {
      ctx_.stop->request({StopKind::kVmmError, fmt::format("vCPU {}: {}", id_, ran.error().message)});
      break;
    }
    exits_.record(fd_.run_state()->exit_reason);
    if (fd_.run_state()->exit_reason == KVM_EXIT_INTR) {
      handle_kick();
      continue;  // the loop's top checks for a stop
    }
    if (!handle_exit()) break;
  }
}

void Vcpu::handle_kick() {
  // Cleared before the checks below and the stop check at the loop's top: a stop, pause or
  // sample requested after them sets it again before its signal (see kick()), so the next
  // KVM_RUN returns at once; one requested before is seen by them.
  __atomic_store_n(&fd_.run_state()->immediate_exit, 0, __ATOMIC_SEQ_CST);
  // KVM_RUN returned for the kick, so any I/O exit before it is complete: the registers are
  // the guest's and the vCPU can park.
  if (sample_requested_.exchange(false)) take_sample();
  if (ctx_.pause != nullptr && ctx_.pause->pause_requested()) {
    ctx_.pause->park([this] { return ctx_.stop->requested(); });
  }
}

void Vcpu::request_sample() {
  sample_requested_.store(true);
  kick();
}

bool Vcpu::handle_exit() {
  kvm_run& run = *fd_.run_state();
  switch (run.exit_reason) {
    case KVM_EXIT_IO:
      handle_io(run);
      return true;
    case KVM_EXIT_MMIO:
      handle_mmio(run);
      return true;
    case KVM_EXIT_SHUTDOWN:
      ctx_.stop->request({StopKind::kGuestReset, fmt::format("vCPU {} triple-faulted: guest reset", id_)});
      return false;
    case KVM_EXIT_SYSTEM_EVENT:
      if (run.system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
        ctx_.stop->request({StopKind::kGuestShutdown, "guest shut down"});
      } else if (run.system_event.type == KVM_SYSTEM_EVENT_RESET) {
        ctx_.stop->request({StopKind::kGuestReset, "guest reset"});
      } else {
        ctx_.stop->request({StopKind::kGuestError, fmt::format("guest system event {}", run.system_event.type)});
      }
      return false;
    case KVM_EXIT_HLT:
      ctx_.stop->request({StopKind::kGuestShutdown, fmt::format("vCPU {} halted", id_)});
      return false;
    case KVM_EXIT_FAIL_ENTRY:
      ctx_.stop->request({StopKind::kGuestError,
                          fmt::format("vCPU {}: VM entry failed, hardware reason {:#x} on host CPU {}", id_,
                                      run.fail_entry.hardware_entry_failure_reason, run.fail_entry.cpu)});
      return false;
    case KVM_EXIT_INTERNAL_ERROR:
      return handle_internal_error(run);
    default:
      ctx_.stop->request(
          {StopKind::kGuestError, fmt::format("vCPU {}: unexpected KVM exit reason {}", id_, run.exit_reason)});
      return false;
  }
}

void Vcpu::handle_io(kvm_run& run) {
  // kvm/api.txt 5: data_offset points at count * size bytes inside the kvm_run mapping.
  auto* data = reinterpret_cast<uint8_t*>(&run) + run.io.data_offset;
  const size_t size = run.io.size;
  for (uint32_t i = 0; i < run.io.count; ++i) {
    std::span<uint8_t> chunk(data + i * size, size);
    if (run.io.direction == KVM_EXIT_IO_OUT) {
      if (!ctx_.pio->write(run.io.port, chunk)) {
        ctx_.unhandled->note(UnhandledAccessLog::Kind::kPortWrite, run.io.port, size);
      }
    } else if (!ctx_.pio->read(run.io.port, chunk)) {
      std::fill(chunk.begin(), chunk.end(), 0xff);
      ctx_.unhandled->note(UnhandledAccessLog::Kind::kPortRead, run.io.port, size);
    }
  }
}

void Vcpu::handle_mmio(kvm_run& run) {
  const size_t len = std::min<size_t>(run.mmio.len, sizeof(run.mmio.data));
  std::span<uint8_t> data(run.mmio.data, len);
  if (run.mmio.is_write) {
    if (!ctx_.mmio->write(run.mmio.phys_addr, data)) {
      ctx_.unhandled->note(UnhandledAccessLog::Kind::kMmioWrite, run.mmio.phys_addr, len);
    }
  } else if (!ctx_.mmio->read(run.mmio.phys_addr, data)) {
    std::fill(data.begin(), data.end(), 0xff);
    ctx_.unhandled->note(UnhandledAccessLog::Kind::kMmioRead, run.mmio.phys_addr, len);
  }
}

bool Vcpu::handle_internal_error(const kvm_run& run) {
  std::string kiln_error;
  if (run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
    auto emulated = emulate_failed_instruction(fd_, run, *ctx_.mem, *ctx_.emulated);
    if (emulated) return true;
    kiln_error = emulated.error().message;
  }
  std::string where;
  if (auto regs = fd_.get_regs()) where = fmt::format(" at RIP {:#x}", regs->rip);
  std::string msg;
  if (run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
    msg = fmt::format("vCPU {}: KVM could not emulate an instruction{}", id_, where);
    const auto& ef = run.emulation_failure;
    if ((ef.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) != 0) {
      msg += fmt::format(", bytes [{}]", hex_bytes(ef.insn_bytes, std::min<size_t>(ef.insn_size, 15)));
    }
    msg += fmt::format(", and kiln could not either ({})", kiln_error);
    msg += x86::host_is_kvm_pvm()
               ? "; this host's KVM is kvm_pvm, which emulates guest kernel code and lacks some instructions: "
                 "hide the CPU feature from the guest or avoid the instruction"
               : "; the guest ran an instruction KVM's emulator does not support on this access (often an "
                 "unusual instruction on device memory)";
  } else {
    msg = fmt::format("vCPU {}: KVM internal error, suberror {}{}", id_, run.internal.suberror, where);
  }
  ctx_.stop->request({StopKind::kGuestError, std::move(msg)});
  return false;
}

}  // namespace kiln
