// boot-check: reports over COM1 what the VMM handed over at boot, then ends as the command line
// asks. Output format (every line ends in "\n"; see guests/README.md):
//   [first-byte]                                   (action=fill only, before anything else)
//   KILN-TEST-GUEST boot=<pvh|elf64|bzimage>
//   cmdline=<command line>
//   e820 0x<start> 0x<size> <type>                 (one per entry, table order)
//   ram=<sum of type-1 sizes, decimal>
//   initrd addr=0x<hex> size=<dec> fnv1a64=0x<16 hex digits> | initrd none
//   result ok | result fail <reason>[ 0x<value>]
//   [spinning | emufail ... | nothing]             (per action)
#include "boot-check/boot_info.h"
#include "boot-check/cmdline.h"
#include "boot-check/fnv1a64.h"
#include "runtime/format.h"
#include "runtime/phys.h"
#include "runtime/reset.h"
#include "runtime/runtime.h"

namespace kiln::guest {
namespace {

enum class Action { reset, spin, emufail, hlt, fill };

Text boot_name(BootKind kind) {
  switch (kind) {
    case BootKind::pvh: return "pvh";
    case BootKind::elf64: return "elf64";
    case BootKind::bzimage: return "bzimage";
  }
  return "unknown";
}

Action parse_action(const BootInfo& info, Failure& failure) {
  Text value;
  if (!info.has_cmdline || !find_option(info.cmdline, "action", value)) return Action::reset;
  if (value == "reset") return Action::reset;
  if (value == "spin") return Action::spin;
  if (value == "emufail") return Action::emufail;
  if (value == "hlt") return Action::hlt;
  if (value == "fill") return Action::fill;
  failure.note("unknown action");
  return Action::reset;
}

// Prints the e820 lines and ram=; checks that some RAM is usable.
void report_e820(const BootInfo& info, Failure& failure) {
  uint64_t ram = 0;
  if (info.has_e820) {
    for (uint32_t i = 0; i < info.e820.count; ++i) {
      const E820Entry e = e820_entry(info.e820, i);
      print_line("e820 ", hex(e.start), " ", hex(e.size), " ", dec(e.type));
      if (e.type == kE820Ram) ram += e.size;
    }
  }
  print_line("ram=", dec(ram));
  if (info.has_e820 && ram == 0) failure.note("no usable RAM in e820");
}

// True if [start, start + size) lies inside one usable e820 entry.
bool inside_ram(const BootInfo& info, uint64_t start, uint64_t size) {
  if (!info.has_e820) return false;
  for (uint32_t i = 0; i < info.e820.count; ++i) {
    const E820Entry e = e820_entry(info.e820, i);
    if (e.type == kE820Ram && start >= e.start && start - e.start <= e.size &&
        size <= e.size - (start - e.start)) {
      return true;
    }
  }
  return false;
}

// Prints the initrd line; hashes the initrd only where it is RAM inside the identity map.
void report_initrd(const BootInfo& info, Failure& failure) {
  if (!info.has_initrd) {
    print_line("initrd none");
    return;
  }
  const uint64_t addr = info.initrd_address;
  const uint64_t size = info.initrd_size;
  const bool in_ram = inside_ram(info, addr, size);
  const bool mapped = is_mapped(addr, size);
  if (in_ram && mapped) {
    print_line("initrd addr=", hex(addr), " size=", dec(size),
               " fnv1a64=", hex_fixed(fnv1a64(phys_ptr<uint8_t>(addr), size), 16));
    return;
  }
  print_line("initrd addr=", hex(addr), " size=", dec(size));
  if (!in_ram) failure.note("initrd outside e820 RAM");
  if (!mapped) failure.note("initrd above 4 GiB");
}

void print_result(const Failure& failure) {
  if (!failure.failed()) {
    print_line("result ok");
  } else if (failure.has_value) {
    print_line("result fail ", Text{failure.reason}, " ", hex(failure.value));
  } else {
    print_line("result fail ", Text{failure.reason});
  }
}

// KVM's instruction emulator has no POPCNT, and 0xd0000000 (MMIO hole) is not RAM, so even
// hardware KVM must emulate this access and fails with KVM_EXIT_INTERNAL_ERROR (emulation).
// A VMM that emulates the instruction in user space lets the guest go on.
[[noreturn]] void fail_emulation() {
  print_line("emufail");
  uint64_t bits;
  asm volatile("popcnt (%1), %0" : "=r"(bits) : "r"(uint64_t{0xd0000000}) : "memory");
  print_line("emufail survived popcnt=", dec(bits));
  i8042_reset();
}

}  // namespace
}  // namespace kiln::guest

extern "C" void kiln_main(kiln::guest::BootKind kind, uint64_t info_address) {
  using namespace kiln::guest;
  BootInfo info = kind == BootKind::pvh ? read_pvh_start_info(info_address)
                                        : read_boot_params(info_address);
  Failure failure = info.failure;
  const Action action = parse_action(info, failure);
  if (action == Action::fill) print_line("first-byte");

  print_line("KILN-TEST-GUEST boot=", boot_name(kind));
  if (!info.fatal) {
    print_line("cmdline=", info.has_cmdline ? info.cmdline : Text{});
    report_e820(info, failure);
    report_initrd(info, failure);
  }
  print_result(failure);

  switch (action) {
    case Action::spin:
      print_line("spinning");
      spin_forever();
    case Action::emufail:
      fail_emulation();
    case Action::hlt:
      halt_forever();
    case Action::reset:
    case Action::fill:
      break;
  }
  i8042_reset();
}
