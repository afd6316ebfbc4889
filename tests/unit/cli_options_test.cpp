#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "cli/options.h"

namespace kiln {
namespace {

RunArgs good_args() {
  RunArgs args;
  args.kernel = "/proc/self/exe";  // a readable regular file
  return args;
}

// Good arguments but --memory. (A string moved in: g++ 12 at -O3 misreads assigning literals of
// different lengths to one std::string in a row as an overlapping copy, -Wrestrict.)
RunArgs with_memory(std::string memory) {
  RunArgs args = good_args();
  args.memory = std::move(memory);
  return args;
}

std::string error_of(const RunArgs& args, HostLimits host = {1ull << 40}) {
  auto r = validate_run_args(args, host);
  return r ? std::string() : r.error().message;
}

TEST(RunArgs, Defaults) {
  auto config = validate_run_args(good_args(), {1ull << 40});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->memory_bytes, 256ull << 20);
  EXPECT_EQ(config->vcpus, 1u);
  EXPECT_FALSE(config->initrd_path);
  EXPECT_NE(config->cmdline.find("console=ttyS0"), std::string::npos);
}

TEST(RunArgs, ErrorsNameTheFlag) {
  auto args = good_args();
  args.kernel = "/nonexistent/vmlinux";
  EXPECT_NE(error_of(args).find("--kernel /nonexistent/vmlinux: No such file"), std::string::npos);
  args = good_args();
  args.kernel = "/tmp";
  EXPECT_NE(error_of(args).find("not a regular file"), std::string::npos);
  args = good_args();
  args.initrd = "/nonexistent/initrd";
  EXPECT_NE(error_of(args).find("--initrd"), std::string::npos);
  EXPECT_NE(error_of(with_memory("0")).find("--memory 0: at least 16 MiB"), std::string::npos);
  EXPECT_NE(error_of(with_memory("64T")).find("--memory '64T': unknown size suffix 'T'"), std::string::npos);
  EXPECT_NE(error_of(with_memory("2G"), {1ull << 30}).find("more than this host's 1024 MiB"), std::string::npos);
  EXPECT_NE(error_of(with_memory("16387K")).find("multiple of 4 KiB"), std::string::npos);
  args = good_args();
  args.cpus = 0;
  EXPECT_NE(error_of(args).find("--cpus 0"), std::string::npos);
  args.cpus = 1000;
  EXPECT_NE(error_of(args).find("--cpus 1000: kiln supports at most 254"), std::string::npos);
}

TEST(RunArgs, NetworkInterfaces) {
  auto args = good_args();
  args.nets = {"tap=tap0", "tap=tap1,mac=06:00:ac:10:00:02,id=eth1", "tap=tap2"};
  auto config = validate_run_args(args, {1ull << 40});
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->nets.size(), 3u);
  EXPECT_EQ(config->nets[0].id, "net0");
  EXPECT_EQ(config->nets[1].id, "eth1");
  EXPECT_EQ(config->nets[2].id, "net2");  // numbered by position
  EXPECT_EQ(config->nets[1].guest_mac, "06:00:ac:10:00:02");
  args.nets = {"tap=tap0", "tap=tap0"};
  EXPECT_NE(error_of(args).find("--net: tap tap0 is given to two network interfaces"), std::string::npos) << error_of(args);
  args.nets = {"tap0"};
  EXPECT_NE(error_of(args).find("--net 'tap0': unknown option 'tap0'"), std::string::npos) << error_of(args);
}

TEST(RunArgs, CmdlineOverride) {
  auto args = good_args();
  args.cmdline = "";
  args.cmdline_given = true;
  auto config = validate_run_args(args, {1ull << 40});
  ASSERT_TRUE(config);
  EXPECT_EQ(config->cmdline, "");
}

TEST(RunArgs, Vsock) {
  auto args = good_args();
  args.vsock = "cid=7,uds=/run/kiln/v.sock";
  auto config = validate_run_args(args, {1ull << 40});
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_TRUE(config->vsock);
  EXPECT_EQ(config->vsock->guest_cid, 7u);
  EXPECT_EQ(config->vsock->uds_path, "/run/kiln/v.sock");
  EXPECT_FALSE(validate_run_args(good_args(), {1ull << 40})->vsock);
  const std::pair<const char*, const char*> bad[] = {
      {"uds=/v.sock", "needs cid=N"},
      {"cid=2,uds=/v.sock", "guest CID 2 is reserved"},
      {"cid=4294967295,uds=/v.sock", "is reserved"},
      {"cid=x,uds=/v.sock", "cid is not a number"},
      {"cid=3", "needs a unix socket path"},
      {"cid=3,uds=/v.sock,port=5", "unknown option 'port=5'"},
  };
  for (const auto& [spec, why] : bad) {
    args.vsock = spec;
    const std::string e = error_of(args);
    EXPECT_NE(e.find("--vsock"), std::string::npos) << spec << ": " << e;
    EXPECT_NE(e.find(why), std::string::npos) << spec << ": " << e;
  }
}

TEST(RunArgs, TransportPerDevice) {
  auto args = good_args();
  args.disks = {"/proc/self/exe,transport=pci", "/proc/self/exe,readonly"};
  args.nets = {"tap=tap0,transport=mmio", "tap=tap1"};
  args.rng = true;
  args.rng_spec = "transport=pci";
  args.console = "virtio,transport=pci";
  args.vsock = "cid=7,uds=/run/kiln/v.sock,transport=mmio";
  auto config = validate_run_args(args, {1ull << 40});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->virtio_transport, VirtioTransport::kMmio);  // the default stays
  EXPECT_EQ(config->disks[0].transport, VirtioTransport::kPci);
  EXPECT_FALSE(config->disks[1].transport);
  EXPECT_TRUE(config->disks[1].readonly);
  EXPECT_EQ(config->nets[0].transport, VirtioTransport::kMmio);
  EXPECT_FALSE(config->nets[1].transport);
  EXPECT_TRUE(config->rng);
  EXPECT_EQ(config->rng_transport, VirtioTransport::kPci);
  EXPECT_EQ(config->console, ConsoleKind::kVirtio);
  EXPECT_EQ(config->console_transport, VirtioTransport::kPci);
  EXPECT_NE(config->cmdline.find("console=hvc0"), std::string::npos);
  ASSERT_TRUE(config->vsock);
  EXPECT_EQ(config->vsock->transport, VirtioTransport::kMmio);
  EXPECT_EQ(config->vsock->guest_cid, 7u);

  // The old forms: --rng alone, --console virtio, --transport pci for every device.
  args = good_args();
  args.rng = true;
  args.console = "virtio";
  args.transport = "pci";
  config = validate_run_args(args, {1ull << 40});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->rng);
  EXPECT_FALSE(config->rng_transport);
  EXPECT_EQ(config->console, ConsoleKind::kVirtio);
  EXPECT_FALSE(config->console_transport);
  EXPECT_EQ(config->virtio_transport, VirtioTransport::kPci);
}

TEST(RunArgs, UnknownTransportsNameTheFlagTheValueAndTheChoices) {
  const std::string choices = "expected 'mmio' (virtio-mmio) or 'pci' (legacy virtio-PCI)";
  auto args = good_args();
  args.disks = {"/proc/self/exe,transport=PCI"};
  EXPECT_EQ(error_of(args), "--disk /proc/self/exe,transport=PCI: transport PCI: " + choices);
  args = good_args();
  args.nets = {"tap=tap0,transport=virtio"};
  EXPECT_EQ(error_of(args), "--net tap=tap0,transport=virtio: transport virtio: " + choices);
  args = good_args();
  args.vsock = "cid=3,uds=/v.sock,transport=";
  EXPECT_EQ(error_of(args), "--vsock cid=3,uds=/v.sock,transport=: transport : " + choices);
  args = good_args();
  args.rng = true;
  args.rng_spec = "transport=isa";
  EXPECT_EQ(error_of(args), "--rng transport=isa: transport isa: " + choices);
  args.rng_spec = "pci";
  EXPECT_NE(error_of(args).find("--rng pci: unknown option"), std::string::npos) << error_of(args);
  args = good_args();
  args.console = "virtio,transport=usb";
  EXPECT_EQ(error_of(args), "--console virtio,transport=usb: transport usb: " + choices);
  args.console = "serial,transport=pci";  // COM1 is no virtio device
  EXPECT_NE(error_of(args).find("--console serial,transport=pci: unknown option 'transport=pci'"), std::string::npos)
      << error_of(args);
  args.console = "hvc";
  EXPECT_NE(error_of(args).find("--console hvc: expected 'serial' or 'virtio"), std::string::npos) << error_of(args);
  args = good_args();
  args.transport = "both";
  EXPECT_EQ(error_of(args), "--transport both: " + choices);
}

}  // namespace
}  // namespace kiln
