// Whole-file reads and regular-file opens: a FIFO or a directory given where a file belongs is
// refused at once, naming the path (issue 16, finding 5: open(2) on a FIFO waited for a writer
// that never came, with kiln deaf to SIGTERM).
#include "common/file.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace kiln {
namespace {

class FileTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln-file-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const char* name : {"/fifo", "/file"}) ::unlink((dir_ + name).c_str());
    ::rmdir(dir_.c_str());
  }
  std::string fifo() {
    const std::string path = dir_ + "/fifo";
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
    return path;
  }
  std::string dir_;
};

TEST_F(FileTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  const std::string path = fifo();
  auto data = read_file(path, 1024);
  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error().kind, ErrorKind::kConfig);
  EXPECT_NE(data.error().message.find(path + ": not a regular file"), std::string::npos) << data.error().message;
  auto fd = open_regular_file(path, "kernel");
  ASSERT_FALSE(fd.has_value());
  EXPECT_NE(fd.error().message.find("kernel " + path), std::string::npos) << fd.error().message;
}

TEST_F(FileTest, ADirectoryIsRefused) {
  auto data = read_file(dir_, 1024);
  ASSERT_FALSE(data.has_value());
  EXPECT_NE(data.error().message.find("not a regular file"), std::string::npos) << data.error().message;
}

TEST_F(FileTest, ARegularFileReadsWholeAndBlocksNormally) {
  const std::string path = dir_ + "/file";
  std::ofstream(path) << "kiln";
  auto data = read_file(path, 1024);
  ASSERT_TRUE(data.has_value()) << data.error().message;
  EXPECT_EQ(std::string(data->begin(), data->end()), "kiln");
  auto fd = open_regular_file(path);
  ASSERT_TRUE(fd.has_value()) << fd.error().message;
  EXPECT_EQ(::fcntl(fd->fd.get(), F_GETFL) & O_NONBLOCK, 0);  // cleared once the type was known
  EXPECT_EQ(fd->size, 4u);
  auto big = read_file(path, 3);
  ASSERT_FALSE(big.has_value());
  EXPECT_NE(big.error().message.find("larger than the limit of 3 bytes"), std::string::npos) << big.error().message;
}

}  // namespace
}  // namespace kiln
