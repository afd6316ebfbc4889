// The MP table, parsed back from guest memory as a kernel would (MP spec 1.4 chapter 4).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/platform/checksum.h"
#include "arch/x86_64/platform/mptable.h"
#include "arch/x86_64/platform/platform_layout.h"

namespace kiln::x86 {
namespace {

GuestMemory low_memory() {
  auto mem = GuestMemory::create(ram_ranges(kMinRamBytes));
  EXPECT_TRUE(mem.has_value());
  return std::move(*mem);
}

std::vector<uint8_t> read_bytes(const GuestMemory& mem, GuestAddress at, size_t n) {
  std::vector<uint8_t> out(n);
  EXPECT_TRUE(mem.read(at, out).has_value());
  return out;
}

struct ParsedMpTable {
  MpFloatingPointer fp{};
  MpConfigHeader header{};
  std::vector<MpProcessorEntry> cpus;
  std::vector<MpBusEntry> buses;
  std::vector<MpIoapicEntry> ioapics;
  std::vector<MpInterruptEntry> io_irqs;
  std::vector<MpInterruptEntry> local_irqs;
  size_t entries = 0;
};

template <typename T>
T at(const std::vector<uint8_t>& bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

ParsedMpTable parse(const GuestMemory& mem) {
  ParsedMpTable t;
  const auto fp_bytes = read_bytes(mem, kMpFloatingPointerAddr, sizeof(MpFloatingPointer));
  EXPECT_EQ(byte_sum(fp_bytes), 0) << "floating pointer checksum";
  t.fp = at<MpFloatingPointer>(fp_bytes, 0);
  const auto header = mem.read_obj<MpConfigHeader>(GuestAddress(t.fp.config_table_addr));
  EXPECT_TRUE(header.has_value());
  t.header = *header;
  const auto table = read_bytes(mem, GuestAddress(t.fp.config_table_addr), t.header.base_length);
  EXPECT_EQ(byte_sum(table), 0) << "configuration table checksum";
  for (size_t off = sizeof(MpConfigHeader); off < table.size(); ++t.entries) {
    switch (table[off]) {
      case kMpProcessor:
        t.cpus.push_back(at<MpProcessorEntry>(table, off));
        off += sizeof(MpProcessorEntry);
        break;
      case kMpBus:
        t.buses.push_back(at<MpBusEntry>(table, off));
        off += sizeof(MpBusEntry);
        break;
      case kMpIoapic:
        t.ioapics.push_back(at<MpIoapicEntry>(table, off));
        off += sizeof(MpIoapicEntry);
        break;
      case kMpIoInterrupt:
        t.io_irqs.push_back(at<MpInterruptEntry>(table, off));
        off += sizeof(MpInterruptEntry);
        break;
      case kMpLocalInterrupt:
        t.local_irqs.push_back(at<MpInterruptEntry>(table, off));
        off += sizeof(MpInterruptEntry);
        break;
      default:
        ADD_FAILURE() << "unknown entry type " << int{table[off]} << " at " << off;
        return t;
    }
  }
  return t;
}

TEST(X86PlatformMpTable, FloatingPointerAndHeader) {
  const GuestMemory mem = low_memory();
  ASSERT_TRUE(write_mptable(mem, 4).has_value());
  const ParsedMpTable t = parse(mem);
  EXPECT_EQ(std::memcmp(t.fp.signature, "_MP_", 4), 0);
  EXPECT_EQ(kMpFloatingPointerAddr.raw() % 16, 0u);
  EXPECT_EQ(t.fp.length_paragraphs, 1);
  EXPECT_EQ(t.fp.spec_rev, 4);
  EXPECT_EQ(t.fp.features1, 0) << "a configuration table is present";
  EXPECT_EQ(t.fp.config_table_addr, kMpFloatingPointerAddr.raw() + 16);
  EXPECT_EQ(std::memcmp(t.header.signature, "PCMP", 4), 0);
  EXPECT_EQ(t.header.spec_rev, 4);
  EXPECT_EQ(t.header.lapic_addr, 0xfee00000u);
  EXPECT_EQ(t.header.entry_count, t.entries);
  EXPECT_EQ(kMpFloatingPointerAddr.raw() + mptable_size(4), t.fp.config_table_addr + t.header.base_length);
}

TEST(X86PlatformMpTable, Entries) {
  const GuestMemory mem = low_memory();
  ASSERT_TRUE(write_mptable(mem, 3, MpCpuSignature{0x6a5, 0x178bfbff}).has_value());
  const ParsedMpTable t = parse(mem);
  ASSERT_EQ(t.cpus.size(), 3u);
  for (size_t i = 0; i < t.cpus.size(); ++i) {
    EXPECT_EQ(t.cpus[i].lapic_id, i);
    EXPECT_EQ(t.cpus[i].cpu_flags, i == 0 ? 3 : 1) << "enabled, BSP only on vCPU 0";
    EXPECT_EQ(t.cpus[i].cpu_signature, 0x6a5u);
    EXPECT_EQ(t.cpus[i].feature_flags, 0x178bfbffu);
  }
  ASSERT_EQ(t.buses.size(), 1u);
  EXPECT_EQ(std::memcmp(t.buses[0].bus_type, "ISA   ", 6), 0);
  ASSERT_EQ(t.ioapics.size(), 1u);
  EXPECT_EQ(t.ioapics[0].ioapic_id, 3) << "the id after the last local APIC";
  EXPECT_EQ(t.ioapics[0].ioapic_addr, 0xfec00000u);
  EXPECT_EQ(t.ioapics[0].flags, 1);
  ASSERT_EQ(t.io_irqs.size(), kIoapicPins);
  for (size_t i = 0; i < t.io_irqs.size(); ++i) {
    EXPECT_EQ(t.io_irqs[i].interrupt_type, kMpInt);
    EXPECT_EQ(t.io_irqs[i].source_bus, t.buses[0].bus_id);
    EXPECT_EQ(t.io_irqs[i].source_irq, i) << "ISA IRQ n is IOAPIC pin n";
    EXPECT_EQ(t.io_irqs[i].dest_pin, i);
    EXPECT_EQ(t.io_irqs[i].dest_apic_id, 3);
  }
  ASSERT_EQ(t.local_irqs.size(), 2u);
  EXPECT_EQ(t.local_irqs[0].interrupt_type, kMpExtInt);
  EXPECT_EQ(t.local_irqs[0].dest_pin, 0) << "LINT0";
  EXPECT_EQ(t.local_irqs[1].interrupt_type, kMpNmi);
  EXPECT_EQ(t.local_irqs[1].dest_pin, 1) << "LINT1";
  EXPECT_EQ(t.local_irqs[1].dest_apic_id, 0xff);
}

TEST(X86PlatformMpTable, VcpuLimits) {
  const GuestMemory mem = low_memory();
  EXPECT_FALSE(write_mptable(mem, 0).has_value());
  EXPECT_FALSE(write_mptable(mem, kMaxVcpus + 1).has_value());
  ASSERT_TRUE(write_mptable(mem, kMaxVcpus).has_value());
  const ParsedMpTable t = parse(mem);
  EXPECT_EQ(t.cpus.size(), kMaxVcpus);
  EXPECT_EQ(t.cpus.back().lapic_id, kMaxVcpus - 1);
  EXPECT_EQ(t.ioapics.at(0).ioapic_id, kMaxVcpus);
  EXPECT_LE(kMpFloatingPointerAddr.raw() + mptable_size(kMaxVcpus), kMpTableEnd.raw());
}

TEST(X86PlatformMpTable, PciBusAndEachFunctionsIntaOnItsPin) {
  const GuestMemory mem = low_memory();
  const MpPciInterrupt pci[] = {{1, 5}, {2, 6}};
  ASSERT_TRUE(write_mptable(mem, 2, {}, pci).has_value());
  const ParsedMpTable t = parse(mem);
  EXPECT_EQ(kMpFloatingPointerAddr.raw() + mptable_size(2, true), t.fp.config_table_addr + t.header.base_length);
  ASSERT_EQ(t.buses.size(), 2u);
  EXPECT_EQ(std::memcmp(t.buses[0].bus_type, "ISA   ", 6), 0);
  EXPECT_EQ(std::memcmp(t.buses[1].bus_type, "PCI   ", 6), 0);
  const uint8_t pci_bus = t.buses[1].bus_id;
  EXPECT_NE(pci_bus, t.buses[0].bus_id);
  ASSERT_EQ(t.io_irqs.size(), kIoapicPins) << "one entry per pin, PCI in place of ISA";
  for (const auto& e : t.io_irqs) {
    if (e.dest_pin == 5 || e.dest_pin == 6) {
      EXPECT_EQ(e.source_bus, pci_bus);
      EXPECT_EQ(e.source_irq, (e.dest_pin - 4) << 2) << "device number in bits 6:2, INTA# = 0";
      EXPECT_EQ(e.flags, 0xf) << "level-triggered, active low";
    } else {
      EXPECT_EQ(e.source_bus, t.buses[0].bus_id);
      EXPECT_EQ(e.source_irq, e.dest_pin);
      EXPECT_EQ(e.flags, 0);
    }
  }
  const MpPciInterrupt twice[] = {{1, 5}, {2, 5}};
  EXPECT_FALSE(write_mptable(mem, 2, {}, twice).has_value());
  const MpPciInterrupt bad_pin[] = {{1, 24}};
  EXPECT_FALSE(write_mptable(mem, 2, {}, bad_pin).has_value());
  const MpPciInterrupt bad_slot[] = {{32, 5}};
  EXPECT_FALSE(write_mptable(mem, 2, {}, bad_slot).has_value());
}

TEST(X86PlatformMpTable, NeedsRamUnderTheBiosArea) {
  const MemoryRange small[] = {{GuestAddress(0), 0xf0000}};
  auto mem = GuestMemory::create(small);
  ASSERT_TRUE(mem.has_value());
  EXPECT_FALSE(write_mptable(*mem, 1).has_value());
}

}  // namespace
}  // namespace kiln::x86
