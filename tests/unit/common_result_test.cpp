// common/result.h: errors as values, their kind (ErrorKind) and how it travels.
#include "common/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/file.h"

namespace kiln {
namespace {

Status fails_as(ErrorKind kind) { return fail_kind(kind, "inner {}", 1); }

Status tries(ErrorKind kind) {
  KILN_TRY(fails_as(kind));
  return {};
}

Result<int> tries_value(ErrorKind kind) {
  Result<int> inner = fail_kind(kind, "no value");
  const int v = KILN_TRY_VALUE(inner);
  return v + 1;
}

TEST(ErrorKind, FailAndFailErrnoAreUnspecified) {
  Status a = fail("plain {}", 2);
  EXPECT_EQ(a.error().kind, ErrorKind::kUnspecified);
  EXPECT_EQ(a.error().message, "plain 2");
  Status b = fail_errno("open", ENOENT);
  EXPECT_EQ(b.error().kind, ErrorKind::kUnspecified);
  EXPECT_EQ(b.error().sys_errno, ENOENT);
}

TEST(ErrorKind, FailKindAndFailErrnoKindClassify) {
  Status a = fail_kind(ErrorKind::kGuest, "descriptor {}", 3);
  EXPECT_EQ(a.error().kind, ErrorKind::kGuest);
  EXPECT_EQ(a.error().message, "descriptor 3");
  EXPECT_EQ(a.error().sys_errno, 0);
  Status b = fail_errno_kind(ErrorKind::kIo, "disk", EACCES);
  EXPECT_EQ(b.error().kind, ErrorKind::kIo);
  EXPECT_EQ(b.error().sys_errno, EACCES);
  EXPECT_EQ(b.error().message, std::string("disk: ") + std::strerror(EACCES));
}

TEST(ErrorKind, WrapKeepsKindAndErrno) {
  Status inner = fail_errno_kind(ErrorKind::kKvm, "KVM_RUN", EFAULT);
  Status outer = wrap("vCPU 0", inner.error());
  EXPECT_EQ(outer.error().kind, ErrorKind::kKvm);
  EXPECT_EQ(outer.error().sys_errno, EFAULT);
  EXPECT_EQ(outer.error().message.rfind("vCPU 0: KVM_RUN: ", 0), 0u) << outer.error().message;
}

TEST(ErrorKind, WithKindReclassifiesAndKeepsTheRest) {
  Status inner = fail_kind(ErrorKind::kGuest, "guest range 0x0+0x10 is outside RAM");
  Status outer = with_kind(ErrorKind::kConfig, inner.error());
  EXPECT_EQ(outer.error().kind, ErrorKind::kConfig);
  EXPECT_EQ(outer.error().message, inner.error().message);
}

TEST(ErrorKind, TheTryMacrosPassTheKindOn) {
  EXPECT_EQ(tries(ErrorKind::kState).error().kind, ErrorKind::kState);
  EXPECT_EQ(tries_value(ErrorKind::kConfig).error().kind, ErrorKind::kConfig);
}

TEST(ErrorKind, EveryKindHasAName) {
  EXPECT_EQ(kind_name(ErrorKind::kUnspecified), "unspecified");
  EXPECT_EQ(kind_name(ErrorKind::kGuest), "guest");
  EXPECT_EQ(kind_name(ErrorKind::kConfig), "config");
  EXPECT_EQ(kind_name(ErrorKind::kIo), "I/O");
  EXPECT_EQ(kind_name(ErrorKind::kKvm), "KVM");
  EXPECT_EQ(kind_name(ErrorKind::kState), "state");
}

TEST(ErrorKind, ReadFileTellsAMissingFileFromAnUnusableOne) {
  auto missing = read_file("/nonexistent/kiln-result-test", 1024);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kIo);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
  auto directory = read_file("/", 1024);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().kind, ErrorKind::kConfig) << directory.error().message;
}

}  // namespace
}  // namespace kiln
