#include "cli/profile_options.h"

#include <fcntl.h>

#include <CLI/CLI.hpp>
#include <charconv>

#include "common/log.h"
#include "common/symbol_file.h"

namespace kiln {
namespace {

Result<uint64_t> parse_number(const std::string& flag, const std::string& text, uint64_t max, std::string_view what) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > max) {
    return fail("{}={}: expected {}, 1..{}", flag, text, what, max);
  }
  return value;
}

// The symbols --profile-symbols names, or else the kernel's own when it has them.
Result<std::shared_ptr<const SymbolTable>> load_profile_symbols(const ProfileArgs& args, const std::string& kernel,
                                                                std::string& source) {
  if (!args.symbols.empty()) {
    auto table = load_symbol_file(args.symbols);
    if (!table) return wrap("--profile-symbols", table.error());
    source = args.symbols;
    return std::make_shared<const SymbolTable>(std::move(*table));
  }
  auto table = load_elf_symbols(kernel);
  if (!table) {
    log("guest profiler: no function names from the kernel ({}); the profile shows addresses: give "
        "--profile-symbols with the kernel's System.map (a bzImage: boot it with nokaslr) or an unstripped vmlinux",
        table.error().message);
    return std::shared_ptr<const SymbolTable>();
  }
  source = kernel;
  return std::make_shared<const SymbolTable>(std::move(*table));
}

}  // namespace

void add_profile_options(CLI::App& sub, ProfileArgs& args) {
  const std::string group = "Guest profiler";
  sub.add_option("--profile-guest", args.hz,
                 fmt::format("Sample every vCPU's instruction pointer HZ times a second (at most {}) while the guest "
                             "runs, and print the hottest guest functions to stderr when the VM stops",
                             kMaxProfileHz))
      ->expected(0, 1)
      ->default_str(std::to_string(kDefaultProfileHz))  // the value of a bare --profile-guest
      ->option_text(fmt::format("[=HZ]  (default {})", kDefaultProfileHz))
      ->group(group);
  sub.add_option("--profile-symbols", args.symbols,
                 "Name guest functions from this ELF (a vmlinux or other image with its symbol table) or System.map; "
                 "default: the kernel's own symbols when it is an ELF that has them")
      ->type_name("PATH")
      ->group(group);
  sub.add_option("--profile-output", args.output, "Write the guest profile to this file instead of stderr")
      ->type_name("PATH")
      ->group(group);
  sub.add_option("--profile-top", args.top, "How many functions the guest profile lists")
      ->type_name("N")
      ->default_str(std::to_string(kDefaultProfileTop))  // shown in --help only
      ->group(group);
}

Status check_profile_args(const ProfileArgs& args) {
  if (!args.enabled()) {
    for (const auto& [flag, value] : {std::pair{"--profile-symbols", &args.symbols},
                                      std::pair{"--profile-output", &args.output}, std::pair{"--profile-top", &args.top}}) {
      if (!value->empty()) return fail("{} needs --profile-guest", flag);
    }
    return {};
  }
  KILN_TRY(parse_number("--profile-guest", args.hz, kMaxProfileHz, "a sampling rate in Hz"));
  if (!args.top.empty()) KILN_TRY(parse_number("--profile-top", args.top, 1000000, "a number of functions"));
  return {};
}

Result<ProfileSettings> profile_settings(const ProfileArgs& args, const std::string& kernel_path) {
  KILN_TRY(check_profile_args(args));
  ProfileSettings settings;
  settings.hz = static_cast<uint32_t>(*parse_number("--profile-guest", args.hz, kMaxProfileHz, ""));
  if (!args.top.empty()) settings.top = *parse_number("--profile-top", args.top, 1000000, "");
  auto symbols = KILN_TRY_VALUE(load_profile_symbols(args, kernel_path, settings.symbols_source));
  settings.symbols = std::move(symbols);
  if (!args.output.empty()) {
    settings.output = UniqueFd(::open(args.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!settings.output) return wrap("--profile-output", fail_errno(args.output).value());
  }
  return settings;
}

}  // namespace kiln
