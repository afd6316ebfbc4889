// Memory sizes as the command line gives them ("256", "512M", "2GiB", "65536K").
#include <gtest/gtest.h>

#include "config/size.h"

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

}  // namespace
}  // namespace kiln
