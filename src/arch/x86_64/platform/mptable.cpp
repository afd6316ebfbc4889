#include "arch/x86_64/platform/mptable.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "arch/x86_64/platform/checksum.h"

namespace kiln::x86 {

namespace {

constexpr uint8_t kMpSpecRev = 4;  // MP spec 1.4
constexpr uint8_t kCpuEnabled = 1 << 0;
constexpr uint8_t kCpuBootstrap = 1 << 1;
constexpr uint8_t kIoapicUsable = 1 << 0;
constexpr uint8_t kIsaBusId = 0;
constexpr uint8_t kPciBusId = 1;  // MP bus IDs are the table's own: PCI bus 0 is MP bus 1
// Section 4.3.4 flags: active low (polarity 11b), level-triggered (trigger 11b), as PCI INTx is.
constexpr uint16_t kLevelActiveLow = 0x3 | 0x3 << 2;
constexpr uint8_t kAllLocalApics = 0xff;
constexpr uint8_t kLint0 = 0;
constexpr uint8_t kLint1 = 1;

// Raw bytes of packed structures, counted.
struct PackedBytes {
  std::vector<uint8_t> bytes;
  uint16_t count = 0;

  template <typename T>
  void add(const T& entry) {
    const auto* p = reinterpret_cast<const uint8_t*>(&entry);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    ++count;
  }
};

// The configuration table's base entries, in the order section 4.3 recommends
// (processors, buses, I/O APICs, I/O interrupts, local interrupts).
PackedBytes base_entries(uint32_t vcpus, const MpCpuSignature& cpu, std::span<const MpPciInterrupt> pci) {
  PackedBytes out;
  for (uint32_t id = 0; id < vcpus; ++id) {
    MpProcessorEntry p{};
    p.type = kMpProcessor;
    p.lapic_id = static_cast<uint8_t>(id);
    p.lapic_version = kLapicVersion;
    p.cpu_flags = static_cast<uint8_t>(kCpuEnabled | (id == 0 ? kCpuBootstrap : 0));
    p.cpu_signature = cpu.signature & 0xfff;
    p.feature_flags = cpu.features;
    out.add(p);
  }

  MpBusEntry bus{};
  bus.type = kMpBus;
  bus.bus_id = kIsaBusId;
  std::memcpy(bus.bus_type, "ISA   ", sizeof(bus.bus_type));
  out.add(bus);
  if (!pci.empty()) {
    MpBusEntry pci_bus{};
    pci_bus.type = kMpBus;
    pci_bus.bus_id = kPciBusId;
    std::memcpy(pci_bus.bus_type, "PCI   ", sizeof(pci_bus.bus_type));
    out.add(pci_bus);
  }

  const uint8_t ioapic = ioapic_id(vcpus);
  out.add(MpIoapicEntry{kMpIoapic, ioapic, kIoapicVersion, kIoapicUsable, kIoapicAddr});

  // Section 4.3.4: ISA IRQ n arrives on IOAPIC pin n (KVM's default GSI routing), with the ISA
  // bus's polarity and trigger (flags 0). Pins 16..23 are listed as ISA IRQs too, as Firecracker
  // does, so a kernel without ACPI can use them for virtio-mmio devices given on the command line.
  // A pin a PCI function uses is that function's alone: its source is PCI bus 0, device `slot`,
  // INTA# (source IRQ bits 6:2 the device, 1:0 the pin, 0 = INTA#).
  for (uint32_t pin = 0; pin < kIoapicPins; ++pin) {
    const auto n = static_cast<uint8_t>(pin);
    const auto function =
        std::find_if(pci.begin(), pci.end(), [&](const MpPciInterrupt& f) { return f.ioapic_pin == n; });
    if (function != pci.end()) {
      const auto source = static_cast<uint8_t>(function->slot << 2);
      out.add(MpInterruptEntry{kMpIoInterrupt, kMpInt, kLevelActiveLow, kPciBusId, source, ioapic, n});
    } else {
      out.add(MpInterruptEntry{kMpIoInterrupt, kMpInt, 0, kIsaBusId, n, ioapic, n});
    }
  }

  // Section 5.1 virtual wire mode: the PIC's INTR on LINT0 of every local APIC, NMI on LINT1.
  out.add(MpInterruptEntry{kMpLocalInterrupt, kMpExtInt, 0, kIsaBusId, 0, kAllLocalApics, kLint0});
  out.add(MpInterruptEntry{kMpLocalInterrupt, kMpNmi, 0, kIsaBusId, 0, kAllLocalApics, kLint1});
  return out;
}

}  // namespace

Status write_mptable(const GuestMemory& mem, uint32_t vcpus, const MpCpuSignature& cpu,
                     std::span<const MpPciInterrupt> pci) {
  if (vcpus == 0 || vcpus > kMaxVcpus) {
    return fail("the MP table describes 1 to {} vCPUs, not {}", kMaxVcpus, vcpus);
  }
  for (size_t i = 0; i < pci.size(); ++i) {
    if (pci[i].slot >= 32 || pci[i].ioapic_pin >= kIoapicPins) {
      return fail("PCI slot {} on IOAPIC pin {} does not fit the MP table", pci[i].slot, pci[i].ioapic_pin);
    }
    for (size_t j = 0; j < i; ++j) {
      if (pci[j].ioapic_pin == pci[i].ioapic_pin) return fail("IOAPIC pin {} given to two PCI slots", pci[i].ioapic_pin);
    }
  }
  const PackedBytes entries = base_entries(vcpus, cpu, pci);
  const GuestAddress config_addr = kMpFloatingPointerAddr.unchecked_add(sizeof(MpFloatingPointer));

  MpConfigHeader header{};
  std::memcpy(header.signature, "PCMP", 4);
  header.base_length = static_cast<uint16_t>(sizeof(MpConfigHeader) + entries.bytes.size());
  header.spec_rev = kMpSpecRev;
  std::memcpy(header.oem_id, "KILN    ", sizeof(header.oem_id));
  std::memcpy(header.product_id, "KILNVM      ", sizeof(header.product_id));
  header.entry_count = entries.count;
  header.lapic_addr = kLapicAddr;

  PackedBytes table;
  table.add(header);
  table.bytes.insert(table.bytes.end(), entries.bytes.begin(), entries.bytes.end());
  set_checksum(table.bytes, offsetof(MpConfigHeader, checksum));

  MpFloatingPointer fp{};
  std::memcpy(fp.signature, "_MP_", 4);
  fp.config_table_addr = static_cast<uint32_t>(config_addr.raw());
  fp.length_paragraphs = 1;
  fp.spec_rev = kMpSpecRev;
  PackedBytes fp_bytes;
  fp_bytes.add(fp);
  set_checksum(fp_bytes.bytes, offsetof(MpFloatingPointer, checksum));

  if (auto st = mem.write(config_addr, table.bytes); !st) return wrap("writing the MP configuration table", st.error());
  if (auto st = mem.write(kMpFloatingPointerAddr, fp_bytes.bytes); !st) {
    return wrap("writing the MP floating pointer", st.error());
  }
  return {};
}

}  // namespace kiln::x86
