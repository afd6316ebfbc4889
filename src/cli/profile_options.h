// The guest profiler's flags on `kiln run` and `kiln restore`: --profile-guest[=HZ],
// --profile-symbols, --profile-output, --profile-top.
#pragma once

#include <string>

#include "common/result.h"
#include "vmm/profile_settings.h"

namespace CLI {
class App;
}

namespace kiln {

struct ProfileArgs {
  std::string hz;       // --profile-guest's value (its default when given bare); empty: not given
  std::string symbols;  // --profile-symbols
  std::string output;   // --profile-output
  std::string top;      // --profile-top

  [[nodiscard]] bool enabled() const { return !hz.empty(); }
};

void add_profile_options(CLI::App& sub, ProfileArgs& args);

// Companion flags without --profile-guest are a usage error naming them; otherwise checks the
// rate (1..kMaxProfileHz) and --profile-top.
[[nodiscard]] Status check_profile_args(const ProfileArgs& args);

// check_profile_args, then the output file (created now) and the symbols: from --profile-symbols
// (an ELF with a symbol table or a System.map; any problem is an error), else from `kernel_path`
// when it is an ELF with symbols (otherwise a note on stderr and a profile of bare addresses).
[[nodiscard]] Result<ProfileSettings> profile_settings(const ProfileArgs& args, const std::string& kernel_path);

}  // namespace kiln
