// --profile-guest and its companions: parsing, checks, and where the symbols come from.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>

#include "cli/profile_options.h"

namespace kiln {
namespace {

ProfileArgs parse(std::vector<std::string> argv) {
  CLI::App app;
  auto* run = app.add_subcommand("run");
  std::string kernel;
  run->add_option("--kernel", kernel);
  ProfileArgs args;
  add_profile_options(*run, args);
  argv.insert(argv.begin(), "run");
  std::reverse(argv.begin(), argv.end());  // CLI11 takes the arguments last first
  app.parse(argv);
  return args;
}

std::string check_error(const ProfileArgs& args) {
  auto ok = check_profile_args(args);
  return ok ? std::string() : ok.error().message;
}

TEST(ProfileArgs, BareFlagTakesTheDefaultRate) {
  EXPECT_EQ(parse({"--profile-guest", "--kernel", "k"}).hz, "250");
  EXPECT_EQ(parse({"--kernel", "k", "--profile-guest"}).hz, "250");
  EXPECT_EQ(parse({"--profile-guest=1000", "--kernel", "k"}).hz, "1000");
  EXPECT_FALSE(parse({"--kernel", "k"}).enabled());
}

TEST(ProfileArgs, Checks) {
  ProfileArgs args;
  EXPECT_EQ(check_error(args), "");
  args.symbols = "System.map";
  EXPECT_EQ(check_error(args), "--profile-symbols needs --profile-guest");
  args.symbols.clear();
  args.top = "5";
  EXPECT_EQ(check_error(args), "--profile-top needs --profile-guest");
  args.hz = "250";
  EXPECT_EQ(check_error(args), "");
  args.hz = "0";
  EXPECT_EQ(check_error(args), "--profile-guest=0: expected a sampling rate in Hz, 1..10000");
  args.hz = "10001";
  EXPECT_NE(check_error(args), "");
  args.hz = "fast";
  EXPECT_NE(check_error(args), "");
  args.hz = "100";
  args.top = "x";
  EXPECT_EQ(check_error(args), "--profile-top=x: expected a number of functions, 1..1000000");
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ProfileSettings, SymbolsFromASystemMapAndTheOutputFile) {
  ProfileArgs args;
  args.hz = "500";
  args.top = "7";
  args.symbols = write_temp("profile_test.map", "ffffffff81000000 T _stext\nffffffff81000100 B _end\n");
  args.output = ::testing::TempDir() + "profile_test.out";
  auto s = profile_settings(args, "/no/such/kernel");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->hz, 500u);
  EXPECT_EQ(s->top, 7u);
  ASSERT_NE(s->symbols, nullptr);
  EXPECT_EQ(s->symbols->lookup(0xffffffff81000080)->name, "_stext");
  EXPECT_EQ(s->symbols_source, args.symbols);
  EXPECT_TRUE(s->output);
}

TEST(ProfileSettings, ExplicitSymbolsMustLoad) {
  ProfileArgs args;
  args.hz = "250";
  args.symbols = "/no/such/System.map";
  auto s = profile_settings(args, "/proc/self/exe");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("--profile-symbols: /no/such/System.map: No such file"), std::string::npos)
      << s.error().message;
}

TEST(ProfileSettings, TheKernelsOwnSymbolsOrAddressesOnly) {
  ProfileArgs args;
  args.hz = "250";
  auto elf = profile_settings(args, "/proc/self/exe");  // this test, an ELF with a symbol table
  ASSERT_TRUE(elf) << elf.error().message;
  ASSERT_NE(elf->symbols, nullptr);
  EXPECT_GT(elf->symbols->size(), 100u);
  EXPECT_EQ(elf->symbols_source, "/proc/self/exe");

  auto bzimage_like = profile_settings(args, write_temp("not_an_elf", "MZ no symbols here"));
  ASSERT_TRUE(bzimage_like) << bzimage_like.error().message;  // a note on stderr, no failure
  EXPECT_EQ(bzimage_like->symbols, nullptr);
}

}  // namespace
}  // namespace kiln
