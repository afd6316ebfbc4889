// ACPI tables parsed back from guest memory the way an OS finds them: RSDP -> XSDT -> FADT/MADT
// -> DSDT, with every checksum checked; the DSDT is also disassembled with iasl when it exists.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/platform/acpi.h"
#include "arch/x86_64/platform/acpi_tables.h"
#include "arch/x86_64/platform/checksum.h"
#include "arch/x86_64/platform/dsdt.h"

namespace kiln::x86 {
namespace {

using namespace kiln::x86::acpi;

GuestMemory low_memory() {
  auto mem = GuestMemory::create(ram_ranges(kMinRamBytes));
  EXPECT_TRUE(mem.has_value());
  return std::move(*mem);
}

std::vector<uint8_t> read_bytes(const GuestMemory& mem, uint64_t at, size_t n) {
  std::vector<uint8_t> out(n);
  EXPECT_TRUE(mem.read(GuestAddress(at), out).has_value());
  return out;
}

template <typename T>
T at(const std::vector<uint8_t>& bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

// A whole table (by its header's length), after checking its checksum.
std::vector<uint8_t> read_table(const GuestMemory& mem, uint64_t addr, const char* signature) {
  const auto header = mem.read_obj<SdtHeader>(GuestAddress(addr));
  EXPECT_TRUE(header.has_value());
  EXPECT_EQ(std::string(header->signature, 4), signature);
  auto bytes = read_bytes(mem, addr, header->length);
  EXPECT_EQ(byte_sum(bytes), 0) << signature << " checksum";
  EXPECT_EQ(std::string(header->oem_id, 6), "KILN  ");
  return bytes;
}

bool contains(const std::vector<uint8_t>& hay, std::string_view needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                     [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); }) != hay.end();
}

struct Tables {
  Rsdp rsdp{};
  std::vector<uint8_t> xsdt, rsdt, fadt, madt, dsdt;
};

Tables find_tables(const GuestMemory& mem, GuestAddress rsdp_addr) {
  Tables t;
  const auto rsdp_bytes = read_bytes(mem, rsdp_addr.raw(), sizeof(Rsdp));
  EXPECT_EQ(byte_sum(std::span(rsdp_bytes).first(kRsdpV1Length)), 0) << "RSDP v1 checksum";
  EXPECT_EQ(byte_sum(rsdp_bytes), 0) << "RSDP extended checksum";
  t.rsdp = at<Rsdp>(rsdp_bytes, 0);
  t.xsdt = read_table(mem, t.rsdp.xsdt_addr, "XSDT");
  t.rsdt = read_table(mem, t.rsdp.rsdt_addr, "RSDT");
  EXPECT_EQ(t.xsdt.size(), sizeof(SdtHeader) + 2 * 8);
  EXPECT_EQ(t.rsdt.size(), sizeof(SdtHeader) + 2 * 4);
  const auto fadt_addr = at<uint64_t>(t.xsdt, sizeof(SdtHeader));
  const auto madt_addr = at<uint64_t>(t.xsdt, sizeof(SdtHeader) + 8);
  EXPECT_EQ(at<uint32_t>(t.rsdt, sizeof(SdtHeader)), fadt_addr);
  EXPECT_EQ(at<uint32_t>(t.rsdt, sizeof(SdtHeader) + 4), madt_addr);
  t.fadt = read_table(mem, fadt_addr, "FACP");
  t.madt = read_table(mem, madt_addr, "APIC");
  t.dsdt = read_table(mem, at<Fadt>(t.fadt, 0).x_dsdt, "DSDT");
  for (uint64_t a : {uint64_t{t.rsdp.xsdt_addr}, uint64_t{t.rsdp.rsdt_addr}, fadt_addr, madt_addr}) {
    EXPECT_GE(a, kAcpiStart.raw());
    EXPECT_LT(a, kAcpiEnd.raw());
  }
  return t;
}

AcpiConfig two_virtio_devices(uint32_t vcpus) {
  AcpiConfig c;
  c.vcpus = vcpus;
  c.mmio_devices.push_back({kVirtioMmioHid, GuestAddress(0xd0000000), 0x1000, 5});
  c.mmio_devices.push_back({kVirtioMmioHid, GuestAddress(0xd0001000), 0x1000, 6});
  return c;
}

TEST(X86PlatformAcpi, RsdpIsWhereTheLegacyScanLooks) {
  const GuestMemory mem = low_memory();
  auto rsdp = write_acpi_tables(mem, AcpiConfig{});
  ASSERT_TRUE(rsdp.has_value()) << rsdp.error().message;
  EXPECT_EQ(*rsdp, kRsdpAddr);
  EXPECT_EQ(rsdp->raw() % 16, 0u);
  EXPECT_GE(rsdp->raw(), 0xe0000u);
  EXPECT_LT(rsdp->raw(), 0x100000u);
  const Tables t = find_tables(mem, *rsdp);
  EXPECT_EQ(std::string(t.rsdp.signature, 8), "RSD PTR ");
  EXPECT_EQ(t.rsdp.revision, 2);
  EXPECT_EQ(t.rsdp.length, sizeof(Rsdp));
}

TEST(X86PlatformAcpi, Fadt) {
  const GuestMemory mem = low_memory();
  auto rsdp = write_acpi_tables(mem, AcpiConfig{});
  ASSERT_TRUE(rsdp.has_value());
  const Fadt f = at<Fadt>(find_tables(mem, *rsdp).fadt, 0);
  EXPECT_EQ(f.header.length, 276u);
  EXPECT_EQ(f.header.revision, 6);
  EXPECT_NE(f.flags & kFadtHwReducedAcpi, 0u);
  EXPECT_NE(f.flags & kFadtResetRegSupported, 0u);
  EXPECT_NE(f.flags & kFadtPowerButton, 0u);
  EXPECT_NE(f.iapc_boot_arch & kBootArch8042, 0u) << "kiln emulates an i8042";
  EXPECT_NE(f.iapc_boot_arch & kBootArchCmosRtcNotPresent, 0u);
  EXPECT_NE(f.iapc_boot_arch & kBootArchMsiNotSupported, 0u) << "no PCI, no MSI";
  AcpiConfig with_pci;
  with_pci.pci_root = PciRootInfo{};
  auto pci_rsdp = write_acpi_tables(mem, with_pci);
  ASSERT_TRUE(pci_rsdp.has_value());
  const Fadt pf = at<Fadt>(find_tables(mem, *pci_rsdp).fadt, 0);
  EXPECT_EQ(pf.iapc_boot_arch & kBootArchMsiNotSupported, 0u) << "PCI functions offer MSI-X";
  EXPECT_EQ(f.reset_reg.space_id, 1);
  EXPECT_EQ(f.reset_reg.address, 0xcf9u);
  EXPECT_EQ(f.reset_value, 6);
  EXPECT_EQ(f.sleep_control_reg.space_id, 1);
  EXPECT_EQ(f.sleep_control_reg.bit_width, 8);
  EXPECT_EQ(f.sleep_control_reg.address, kDefaultSleepPort);
  EXPECT_EQ(f.sleep_status_reg.address, kDefaultSleepPort);
  EXPECT_EQ(f.dsdt, 0u);
  EXPECT_EQ(kSleepValueS5, 0x34);
}

TEST(X86PlatformAcpi, MadtHasOneLocalApicPerVcpu) {
  for (uint32_t vcpus : {1u, 2u, 7u, kMaxVcpus}) {
    const GuestMemory mem = low_memory();
    auto rsdp = write_acpi_tables(mem, AcpiConfig{vcpus, {}, kDefaultSleepPort, {}});
    ASSERT_TRUE(rsdp.has_value()) << rsdp.error().message;
    const auto madt = find_tables(mem, *rsdp).madt;
    const auto head = at<MadtHeader>(madt, 0);
    EXPECT_EQ(head.lapic_addr, 0xfee00000u);
    EXPECT_EQ(head.flags, kMadtPcatCompat);
    uint32_t lapics = 0, ioapics = 0, nmis = 0, others = 0;
    for (size_t off = sizeof(MadtHeader); off < madt.size(); off += madt[off + 1]) {
      ASSERT_GE(madt[off + 1], 2);
      switch (madt[off]) {
        case kMadtLocalApic: {
          const auto l = at<MadtLocalApic>(madt, off);
          EXPECT_EQ(l.apic_id, lapics);
          EXPECT_EQ(l.processor_uid, lapics);
          EXPECT_EQ(l.flags, 1u) << "enabled";
          ++lapics;
          break;
        }
        case kMadtIoapic: {
          const auto io = at<MadtIoapic>(madt, off);
          EXPECT_EQ(io.ioapic_id, vcpus);
          EXPECT_EQ(io.address, 0xfec00000u);
          EXPECT_EQ(io.gsi_base, 0u);
          ++ioapics;
          break;
        }
        case kMadtLocalApicNmi: {
          const auto n = at<MadtLocalApicNmi>(madt, off);
          EXPECT_EQ(n.processor_uid, 0xff);
          EXPECT_EQ(n.lint, 1);
          ++nmis;
          break;
        }
        default:
          ++others;  // no interrupt source overrides: KVM's default routing is identity
      }
    }
    EXPECT_EQ(lapics, vcpus);
    EXPECT_EQ(ioapics, 1u);
    EXPECT_EQ(nmis, 1u);
    EXPECT_EQ(others, 0u);
  }
}

TEST(X86PlatformAcpi, DsdtDevices) {
  const GuestMemory mem = low_memory();
  auto rsdp = write_acpi_tables(mem, two_virtio_devices(2));
  ASSERT_TRUE(rsdp.has_value()) << rsdp.error().message;
  const auto dsdt = find_tables(mem, *rsdp).dsdt;
  EXPECT_EQ(at<SdtHeader>(dsdt, 0).revision, 2);
  // Name (_HID, EisaId ("PNP0501")): the EISA id is a compressed DWord.
  EXPECT_TRUE(contains(dsdt, std::string_view("\x08_HID\x0c\x41\xd0\x05\x01", 10)));
  EXPECT_TRUE(contains(dsdt, "COM1"));
  // Name (_HID, EisaId ("PNP0303")): the keyboard controller, found by Linux's i8042 PNP probe.
  EXPECT_TRUE(contains(dsdt, std::string_view("\x08_HID\x0c\x41\xd0\x03\x03", 10)));
  EXPECT_TRUE(contains(dsdt, "PS2K"));
  EXPECT_TRUE(contains(dsdt, "\x0dLNRO0005"));
  EXPECT_TRUE(contains(dsdt, "V000"));
  EXPECT_TRUE(contains(dsdt, "V001"));
  EXPECT_TRUE(contains(dsdt, "_S5_"));
  EXPECT_TRUE(contains(dsdt, "\\_SB_"));
}

TEST(X86PlatformAcpi, NoSleepPortMeansNoS5) {
  const GuestMemory mem = low_memory();
  auto rsdp = write_acpi_tables(mem, AcpiConfig{1, {}, 0, {}});
  ASSERT_TRUE(rsdp.has_value());
  const Tables t = find_tables(mem, *rsdp);
  EXPECT_FALSE(contains(t.dsdt, "_S5_"));
  EXPECT_FALSE(contains(t.dsdt, "LNRO0005"));
  EXPECT_EQ(at<Fadt>(t.fadt, 0).sleep_control_reg.address, 0u);
}

TEST(X86PlatformAcpi, RejectsBadConfigs) {
  const GuestMemory mem = low_memory();
  EXPECT_FALSE(write_acpi_tables(mem, AcpiConfig{0, {}, kDefaultSleepPort, {}}).has_value());
  EXPECT_FALSE(write_acpi_tables(mem, AcpiConfig{kMaxVcpus + 1, {}, kDefaultSleepPort, {}}).has_value());
  auto with = [&](MmioDeviceInfo d) {
    AcpiConfig c = two_virtio_devices(1);
    c.mmio_devices.push_back(std::move(d));
    return write_acpi_tables(mem, c);
  };
  EXPECT_TRUE(with({kVirtioMmioHid, GuestAddress(0xd0002000), 0x1000, 7}).has_value());
  EXPECT_TRUE(with({"PNP0C0C", GuestAddress(0xd0002000), 0x1000, 7}).has_value());
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0x100000), 0x1000, 7}).has_value()) << "RAM";
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0xfffff000), 0x2000, 7}).has_value()) << "past 4 GiB";
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0xfec00000), 0x1000, 7}).has_value()) << "IOAPIC";
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0xd0000800), 0x1000, 7}).has_value()) << "overlap";
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0xd0002000), 0, 7}).has_value()) << "empty";
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0xd0002000), 0x1000, 5}).has_value()) << "GSI taken";
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0xd0002000), 0x1000, 4}).has_value()) << "COM1's IRQ";
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0xd0002000), 0x1000, 1}).has_value()) << "the keyboard's IRQ";
  EXPECT_FALSE(with({kVirtioMmioHid, GuestAddress(0xd0002000), 0x1000, 24}).has_value()) << "no such pin";
  EXPECT_FALSE(with({"lnro0005", GuestAddress(0xd0002000), 0x1000, 7}).has_value()) << "bad _HID";
}

// --- iasl (Debian package acpica-tools) -------------------------------------------------------

// Runs `iasl <args>` in dir; returns its output.
std::string run_iasl(const std::filesystem::path& dir, const std::string& args, int& status) {
  const std::string cmd = "cd '" + dir.string() + "' && iasl " + args + " > iasl.log 2>&1";
  status = std::system(cmd.c_str());
  std::ifstream log(dir / "iasl.log");
  std::stringstream ss;
  ss << log.rdbuf();
  return ss.str();
}

class IaslTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v iasl > /dev/null 2>&1") != 0) GTEST_SKIP() << "iasl (acpica-tools) is not installed";
    char tmpl[] = "/tmp/kiln-acpi-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  std::string read_file(const std::string& name) {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The DSDT of `config` as iasl disassembles it (every string in `expected` must be there), and
  // compiling that back (optimizations off) must give kiln's AML byte for byte.
  void check_dsdt(const AcpiConfig& config, std::initializer_list<const char*> expected) {
    const GuestMemory mem = low_memory();
    auto rsdp = write_acpi_tables(mem, config);
    ASSERT_TRUE(rsdp.has_value()) << rsdp.error().message;
    write_file("dsdt.aml", find_tables(mem, *rsdp).dsdt);
    int status = 0;
    const std::string log = run_iasl(dir_, "-d dsdt.aml", status);
    ASSERT_EQ(status, 0) << log;
    const std::string dsl = read_file("dsdt.dsl");
    for (const char* e : expected) EXPECT_NE(dsl.find(e), std::string::npos) << e << "\n" << dsl;
    EXPECT_EQ(log.find("Error"), std::string::npos) << log;
    const std::string recompiled_log = run_iasl(dir_, "-oa -p recompiled dsdt.dsl", status);
    ASSERT_EQ(status, 0) << recompiled_log;
    const std::string ours = read_file("dsdt.aml");
    const std::string theirs = read_file("recompiled.aml");
    ASSERT_GT(ours.size(), sizeof(acpi::SdtHeader));
    EXPECT_EQ(ours.substr(sizeof(acpi::SdtHeader)), theirs.substr(std::min(theirs.size(), sizeof(acpi::SdtHeader))));
  }
  std::filesystem::path dir_;
};

TEST_F(IaslTest, DisassemblesTheDsdt) {
  check_dsdt(two_virtio_devices(4),
             {"Device (COM1)", "EisaId (\"PNP0501\")", "IO (Decode16,", "IRQNoFlags ()", "Device (PS2K)",
              "EisaId (\"PNP0303\")", "0x0060,", "0x0064,", "{1}", "Device (V000)",
              "Device (V001)", "Name (_HID, \"LNRO0005\")", "Memory32Fixed (ReadWrite,", "0xD0001000",
              "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )", "Name (_S5, Package (0x04)"});
}

// The PCI root bridge kiln describes with --transport pci: windows, config ports and INTx routes.
TEST_F(IaslTest, DisassemblesThePciRootBridge) {
  AcpiConfig c;
  c.pci_root = PciRootInfo{0xc000, 0xffff, 0xc0000000, 0xcfffffff, {{1, 5}, {2, 6}}};
  check_dsdt(c, {"Device (PCI0)", "EisaId (\"PNP0A03\")", "Name (_SEG, Zero)", "Name (_BBN, Zero)",
                 "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,",
                 "IO (Decode16,\n                    0x0CF8,",
                 "WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,", "0xC000,", "0xFFFF,",
                 "DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,",
                 "0xC0000000,", "0xCFFFFFFF,", "0x10000000,", "Name (_PRT, Package (0x02)", "0x0001FFFF,",
                 "0x0002FFFF,"});
}

TEST(X86PlatformAcpi, RejectsBadPciRoutes) {
  const GuestMemory mem = low_memory();
  AcpiConfig c;
  c.pci_root = PciRootInfo{0xc000, 0xffff, 0xc0000000, 0xcfffffff, {{32, 5}}};
  EXPECT_FALSE(write_acpi_tables(mem, c).has_value()) << "slot 32";
  c.pci_root->intx = {{1, 24}};
  EXPECT_FALSE(write_acpi_tables(mem, c).has_value()) << "no such IOAPIC pin";
}

TEST_F(IaslTest, DisassemblesTheDataTables) {
  const GuestMemory mem = low_memory();
  auto rsdp = write_acpi_tables(mem, two_virtio_devices(3));
  ASSERT_TRUE(rsdp.has_value());
  const Tables t = find_tables(mem, *rsdp);
  const std::pair<const char*, std::vector<uint8_t>> files[] = {
      {"facp", t.fadt}, {"apic", t.madt}, {"xsdt", t.xsdt}, {"rsdt", t.rsdt}};
  for (const auto& [name, bytes] : files) {
    write_file(std::string(name) + ".dat", bytes);
    int status = 0;
    const std::string log = run_iasl(dir_, "-d " + std::string(name) + ".dat", status);
    EXPECT_EQ(status, 0) << name << ": " << log;
    const std::string dsl = read_file(std::string(name) + ".dsl");
    EXPECT_FALSE(dsl.empty()) << name << ": " << log;
    EXPECT_EQ(dsl.find("Error"), std::string::npos) << name << ":\n" << dsl;
    EXPECT_EQ(dsl.find("Invalid"), std::string::npos) << name << ":\n" << dsl;
    EXPECT_EQ(dsl.find("Incorrect"), std::string::npos) << name << ":\n" << dsl;
  }
}

}  // namespace
}  // namespace kiln::x86
