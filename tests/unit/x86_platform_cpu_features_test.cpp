// Feature names, templates and `--cpu-feature` parsing.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "arch/x86_64/platform/cpu_features.h"

namespace kiln::x86 {
namespace {

TEST(X86PlatformCpuFeatures, ParsesSignedLists) {
  auto none = parse_feature_overrides("");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(parse_feature_overrides("  ")->empty());

  auto r = parse_feature_overrides(" -cx16 , +POPCNT,-sse4_2");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name, "cx16");
  EXPECT_FALSE((*r)[0].enable);
  EXPECT_EQ((*r)[0].bit.leaf, 1u);
  EXPECT_EQ((*r)[0].bit.reg, CpuidReg::kEcx);
  EXPECT_EQ((*r)[0].bit.bit, 13);
  EXPECT_EQ((*r)[1].name, "popcnt");
  EXPECT_TRUE((*r)[1].enable);
  EXPECT_EQ((*r)[2].name, "sse4.2") << "Linux's spelling maps to the table's";
}

TEST(X86PlatformCpuFeatures, RejectsMalformedItems) {
  for (const char* bad : {"cx16", "-", "+", "-cx16,", ",-cx16", "-cx16,,+popcnt", "~cx16"}) {
    EXPECT_FALSE(parse_feature_overrides(bad).has_value()) << bad;
  }
}

TEST(X86PlatformCpuFeatures, UnknownNameListsKnownNames) {
  auto r = parse_feature_overrides("-cx16,+foo");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("\"foo\""), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("cx16"), std::string::npos);
  EXPECT_NE(r.error().message.find("avx512f"), std::string::npos);
}

TEST(X86PlatformCpuFeatures, TablesAreConsistent) {
  std::set<std::string> names;
  std::set<std::tuple<uint32_t, uint32_t, CpuidReg, uint8_t>> bits;
  for (const CpuFeature& f : known_cpu_features()) {
    EXPECT_TRUE(names.insert(std::string(f.name)).second) << "duplicate name " << f.name;
    EXPECT_TRUE(bits.insert({f.bit.leaf, f.bit.subleaf, f.bit.reg, f.bit.bit}).second) << "duplicate bit " << f.name;
    EXPECT_LT(f.bit.bit, 32) << f.name;
    EXPECT_EQ(find_cpu_feature(f.name), &f);
  }
  for (const FeatureDependency& d : feature_dependencies()) {
    EXPECT_NE(find_cpu_feature(d.feature), nullptr) << d.feature;
    EXPECT_NE(find_cpu_feature(d.needs), nullptr) << d.needs;
  }
  for (const CpuTemplate& t : cpu_templates()) {
    for (const HiddenFeature& h : t.hidden) {
      EXPECT_NE(find_cpu_feature(h.name), nullptr) << t.name << ": " << h.name;
      EXPECT_FALSE(h.why.empty()) << h.name;
    }
  }
}

TEST(X86PlatformCpuFeatures, Templates) {
  EXPECT_TRUE(find_cpu_template("none").has_value());
  ASSERT_TRUE(find_cpu_template("pvm").has_value());
  EXPECT_FALSE((*find_cpu_template("pvm"))->hidden.empty());
  auto bad = find_cpu_template("PVM2");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("pvm"), std::string::npos);
  EXPECT_EQ(default_cpu_template(true), "pvm");
  EXPECT_EQ(default_cpu_template(false), "none");
  EXPECT_EQ(host_is_kvm_pvm(), std::filesystem::exists("/sys/module/kvm_pvm"));
}

}  // namespace
}  // namespace kiln::x86
