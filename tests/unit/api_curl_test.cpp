// The API driven by an independent client, curl --unix-socket, the way Firecracker's getting
// started guide drives Firecracker, including a body sent only after "Expect: 100-continue".
#include <cstdio>
#include <cstdlib>

#include "api_test_fixture.h"

namespace kiln::api::test {
namespace {

using nlohmann::json;

struct CurlReply {
  int status = 0;
  std::string body;
};

class CurlTest : public ApiTest {
 protected:
  void SetUp() override {
    if (std::system("curl --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "curl is not installed";
  }

  // Runs curl with the body in a file (no shell quoting of JSON); the status is curl's last line.
  CurlReply curl(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& header = "") {
    std::string cmd = "curl -s --max-time 10 --unix-socket '" + socket() + "' -X " + method;
    if (!body.empty()) {
      const std::string file = dir_.path() + "/body.json";
      std::FILE* f = std::fopen(file.c_str(), "w");
      std::fputs(body.c_str(), f);
      std::fclose(f);
      cmd += " -H 'Content-Type: application/json' --data-binary @'" + file + "'";
      if (!header.empty()) cmd += " -H '" + header + "'";
    }
    cmd += " -w '\\n%{http_code}' 'http://localhost" + path + "'";
    CurlReply reply;
    std::FILE* out = ::popen(cmd.c_str(), "r");
    if (out == nullptr) return reply;
    std::string text;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), out)) > 0;) text.append(buf, n);
    ::pclose(out);
    const size_t last = text.rfind('\n');
    if (last == std::string::npos) return reply;
    reply.status = std::atoi(text.c_str() + last + 1);
    reply.body = text.substr(0, last);
    return reply;
  }
};

TEST_F(CurlTest, AWholeVmThroughCurl) {
  EXPECT_EQ(curl("PUT", "/boot-source", json{{"kernel_image_path", kernel_}, {"boot_args", "console=ttyS0"}}.dump()).status, 204);
  EXPECT_EQ(curl("PUT", "/machine-config", R"({"vcpu_count": 2, "mem_size_mib": 256})").status, 204);
  const json root = {{"drive_id", "rootfs"}, {"path_on_host", rootfs_}, {"is_root_device", true}, {"is_read_only", false}};
  EXPECT_EQ(curl("PUT", "/drives/rootfs", root.dump()).status, 204);
  // curl sends the body only once the server answered "100 Continue" (or after waiting 1 s).
  const std::string long_args = "console=ttyS0 " + std::string(1500, 'x');
  EXPECT_EQ(curl("PUT", "/boot-source", json{{"kernel_image_path", kernel_}, {"boot_args", long_args}}.dump(),
                 "Expect: 100-continue")
                .status,
            204);
  const CurlReply bad = curl("PUT", "/machine-config", R"({"vcpu_count": 2})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body, nullptr, false)["fault_message"],
            "An error occurred when deserializing the json body of a request: missing field `mem_size_mib`.");
  EXPECT_EQ(curl("PUT", "/actions", R"({"action_type": "InstanceStart"})").status, 204);
  ASSERT_TRUE(vmm_.started());
  EXPECT_EQ(vmm_.started()->cmdline, long_args + " root=/dev/vda rw");
  EXPECT_EQ(vmm_.started()->vcpus, 2u);
  const CurlReply info = curl("GET", "/");
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(json::parse(info.body, nullptr, false)["state"], "Running");
}

}  // namespace
}  // namespace kiln::api::test
