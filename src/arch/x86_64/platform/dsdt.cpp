#include "arch/x86_64/platform/dsdt.h"

#include <fmt/format.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/platform/aml.h"

namespace kiln::x86 {

namespace {

using aml::Bytes;
using aml::ResourceTemplate;

constexpr uint64_t kApicPageBytes = 0x1000;
constexpr uint32_t kPitGsi = 0;
constexpr uint32_t kCascadeGsi = 2;

struct Window {
  uint64_t start;
  uint64_t end;  // one past the last byte
  [[nodiscard]] bool overlaps(const Window& o) const { return start < o.end && o.start < end; }
};

// A _HID: an ACPI id (four characters A-Z, 0-9, _ and four hex digits, "LNRO0005") is a String;
// a PNP id (three letters and four hex digits, "PNP0501") is an EISAID.
Result<Bytes> hardware_id(const std::string& hid) {
  if (hid.size() == 7) return aml::eisa_id(hid);
  auto upper_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  bool ok = hid.size() == 8;
  auto id_char = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
  for (size_t i = 0; ok && i < 4; ++i) ok = id_char(hid[i]);
  for (size_t i = 4; ok && i < 8; ++i) ok = upper_hex(hid[i]);
  if (!ok) return fail("_HID \"{}\" is neither an ACPI id (like LNRO0005) nor a PNP id (like PNP0501)", hid);
  return aml::string(hid);
}

Status check_mmio_devices(const std::vector<MmioDeviceInfo>& devices) {
  const Window apic_pages[] = {{kIoapicAddr, kIoapicAddr + kApicPageBytes},
                               {kLapicAddr, kLapicAddr + kApicPageBytes}};
  std::vector<Window> used;
  uint32_t gsis_used = (1u << kPitGsi) | (1u << kKeyboardIrq) | (1u << kCascadeGsi) | (1u << kCom1Irq);
  for (const MmioDeviceInfo& d : devices) {
    const uint64_t base = d.base.raw();
    if (d.size == 0 || base < kMmioHoleStart || base >= kMmioHoleEnd || d.size > kMmioHoleEnd - base) {
      return fail("MMIO device [{:#x}, +{:#x}) must lie in the MMIO hole [{:#x}, {:#x})", base, d.size, kMmioHoleStart,
                  kMmioHoleEnd);
    }
    const Window w{base, base + d.size};
    for (const Window& o : apic_pages) {
      if (w.overlaps(o)) {
        return fail("MMIO device [{:#x}, +{:#x}) overlaps the APIC page at {:#x}", base, d.size, o.start);
      }
    }
    for (const Window& o : used) {
      if (w.overlaps(o)) return fail("MMIO devices at {:#x} and {:#x} overlap", o.start, base);
    }
    used.push_back(w);
    if (d.gsi >= kIoapicPins) {
      return fail("MMIO device at {:#x}: GSI {} is past the IOAPIC's {} pins", base, d.gsi, kIoapicPins);
    }
    if ((gsis_used & (1u << d.gsi)) != 0) return fail("MMIO device at {:#x}: GSI {} is already taken", base, d.gsi);
    gsis_used |= 1u << d.gsi;
  }
  return {};
}

Result<Bytes> com1() {
  auto hid = KILN_TRY_VALUE(aml::eisa_id("PNP0501"));
  const Bytes crs = ResourceTemplate().io(kCom1Port, 8).irq_no_flags(static_cast<uint8_t>(kCom1Irq)).build();
  const Bytes terms[] = {aml::name("_HID", hid), aml::name("_UID", aml::integer(1)), aml::name("_CRS", crs)};
  return aml::device("COM1", terms);
}

// The i8042 as a PC keyboard controller (PNP0303). Hardware-reduced ACPI has no legacy IRQs set up
// and says "no 8042" in the FADT, so Linux's i8042 driver finds the controller and its IRQ only
// through this PNP device (drivers/input/serio/i8042-acpipnpio.h): data port, command port, IRQ 1.
Result<Bytes> keyboard_controller() {
  auto hid = KILN_TRY_VALUE(aml::eisa_id("PNP0303"));
  const Bytes crs = ResourceTemplate()
                        .io(kI8042DataPort, 1)
                        .io(kI8042CommandPort, 1)
                        .irq_no_flags(static_cast<uint8_t>(kKeyboardIrq))
                        .build();
  const Bytes terms[] = {aml::name("_HID", hid), aml::name("_UID", aml::integer(0)), aml::name("_CRS", crs)};
  return aml::device("PS2K", terms);
}

Result<Bytes> mmio_device(const MmioDeviceInfo& d, size_t index) {
  auto hid = KILN_TRY_VALUE(hardware_id(d.hid));
  const auto dev_name = aml::Name::from(fmt::format("V{:03X}", index));
  if (!dev_name) return fail("too many MMIO devices for the DSDT's names");
  const Bytes crs = ResourceTemplate()
                        .memory32_fixed(static_cast<uint32_t>(d.base.raw()), static_cast<uint32_t>(d.size), true)
                        .interrupt(d.gsi, ResourceTemplate::Trigger::kEdge, ResourceTemplate::Polarity::kActiveHigh)
                        .build();
  const Bytes terms[] = {aml::name("_HID", hid), aml::name("_UID", aml::integer(index)),
                         aml::name("_CCA", aml::integer(1)),  // DMA is cache-coherent
                         aml::name("_CRS", crs)};
  return aml::device(*dev_name, terms);
}

// PCI0: the root bridge of bus 0 (PCI Firmware spec 3.2, 4.1; ACPI 6.5 section 6.2.13 _PRT).
// Every slot's INTA# goes to a GSI directly (Source 0), which the OS sets up level-triggered,
// active low.
Result<Bytes> pci_root(const PciRootInfo& p) {
  auto hid = KILN_TRY_VALUE(aml::eisa_id("PNP0A03"));
  const Bytes crs = ResourceTemplate()
                        .word_bus_number(0, 0)
                        .io(0xcf8, 8)  // configuration mechanism #1, consumed by the bridge
                        .word_io(p.io_min, p.io_max)
                        .dword_memory(p.mem_min, p.mem_max)
                        .build();
  std::vector<Bytes> routes;
  for (const auto& r : p.intx) {
    if (r.slot >= 32 || r.gsi >= kIoapicPins) return fail("PCI slot {} routed to GSI {}", r.slot, r.gsi);
    // Address: device in the high word, any function (0xffff); pin 0 = INTA#.
    const Bytes entry[] = {aml::dword(r.slot << 16 | 0xffff), aml::integer(0), aml::integer(0), aml::integer(r.gsi)};
    routes.push_back(aml::package(entry));
  }
  if (routes.size() > 32) return fail("{} PCI interrupt routes", routes.size());
  const Bytes terms[] = {aml::name("_HID", hid),          aml::name("_UID", aml::integer(0)),
                         aml::name("_SEG", aml::integer(0)), aml::name("_BBN", aml::integer(0)),
                         aml::name("_CRS", crs),            aml::name("_PRT", aml::package(routes))};
  return aml::device("PCI0", terms);
}

}  // namespace

Result<std::vector<uint8_t>> dsdt_aml(const AcpiConfig& config) {
  KILN_TRY(check_mmio_devices(config.mmio_devices));
  std::vector<Bytes> devices;
  devices.push_back(KILN_TRY_VALUE(com1()));
  devices.push_back(KILN_TRY_VALUE(keyboard_controller()));
  for (size_t i = 0; i < config.mmio_devices.size(); ++i) {
    auto dev = mmio_device(config.mmio_devices[i], i);
    if (!dev) return wrap(fmt::format("MMIO device {}", i), dev.error());
    devices.push_back(std::move(*dev));
  }
  if (config.pci_root) {
    auto root = pci_root(*config.pci_root);
    if (!root) return wrap("PCI root bridge", root.error());
    devices.push_back(std::move(*root));
  }

  Bytes out = aml::scope("\\_SB", devices);
  if (config.sleep_port != 0) {
    // ACPI 6.5 section 7.4.2: \_S5 gives SLP_TYPa (what the OS writes to SLEEP_CONTROL_REG), SLP_TYPb
    // and two reserved values.
    const Bytes s5[] = {aml::integer(kSleepTypeS5), aml::integer(0), aml::integer(0), aml::integer(0)};
    const Bytes s5_name = aml::name("_S5", aml::package(s5));
    out.insert(out.end(), s5_name.begin(), s5_name.end());
  }
  return out;
}

}  // namespace kiln::x86
