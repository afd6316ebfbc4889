#include <gtest/gtest.h>

#include "cli/options.h"
#include "cli/size.h"

namespace kiln {
namespace {

TEST(MemorySize, Units) {
  EXPECT_EQ(*parse_memory_size("256"), 256ull << 20);
  EXPECT_EQ(*parse_memory_size("256M"), 256ull << 20);
  EXPECT_EQ(*parse_memory_size("256MiB"), 256ull << 20);
  EXPECT_EQ(*parse_memory_size("2G"), 2ull << 30);
  EXPECT_EQ(*parse_memory_size("2gib"), 2ull << 30);
  EXPECT_EQ(*parse_memory_size("65536K"), 64ull << 20);
}

TEST(MemorySize, Errors) {
  auto bad_suffix = parse_memory_size("256X");
  ASSERT_FALSE(bad_suffix);
  EXPECT_NE(bad_suffix.error().message.find("unknown size suffix 'X'"), std::string::npos);
  EXPECT_FALSE(parse_memory_size(""));
  EXPECT_FALSE(parse_memory_size("M"));
  EXPECT_FALSE(parse_memory_size("-5"));
  EXPECT_FALSE(parse_memory_size("99999999999999999999"));
  EXPECT_FALSE(parse_memory_size("99999999999999G"));  // multiplication overflows
}

RunArgs good_args() {
  RunArgs args;
  args.kernel = "/proc/self/exe";  // a readable regular file
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
  args = good_args();
  args.memory = "0";
  EXPECT_NE(error_of(args).find("--memory 0: at least 16 MiB"), std::string::npos);
  args.memory = "64T";
  EXPECT_NE(error_of(args).find("--memory '64T': unknown size suffix 'T'"), std::string::npos);
  args.memory = "2G";
  EXPECT_NE(error_of(args, {1ull << 30}).find("more than this host's 1024 MiB"), std::string::npos);
  args.memory = "16387K";
  EXPECT_NE(error_of(args).find("multiple of 4 KiB"), std::string::npos);
  args = good_args();
  args.cpus = 0;
  EXPECT_NE(error_of(args).find("--cpus 0"), std::string::npos);
  args.cpus = 1000;
  EXPECT_NE(error_of(args).find("--cpus 1000: kiln supports at most 254"), std::string::npos);
}

TEST(RunArgs, CmdlineOverride) {
  auto args = good_args();
  args.cmdline = "";
  args.cmdline_given = true;
  auto config = validate_run_args(args, {1ull << 40});
  ASSERT_TRUE(config);
  EXPECT_EQ(config->cmdline, "");
}

}  // namespace
}  // namespace kiln
