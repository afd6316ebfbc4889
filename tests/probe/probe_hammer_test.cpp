// PATCH /drives hammered while the guest resets and re-activates its disk (issue 12, "a test that
// hammers PATCH /drives from one thread while a guest (probe) resets and re-activates the disk and
// reads its config in a loop"): probe=blk-hammer loops over Status 0, bring-up, the capacity and
// a read of sector 0, while this test swaps the disk between two images of different sizes and
// contents as fast as the API answers. Every iteration must see one whole image, kiln must not
// crash or hang, and after the last swap the disk serves the new image. Label "probe". (The same
// race without KVM, under ASan and TSan: tests/unit/virtio/drive_swap_race_test.cpp.)
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "kvm_test_env.h"
#include "probe_case.h"
#include "probe_command.h"
#include "probe_output.h"
#include "scratch_dir.h"
#include "unix_http.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kSectorsA = 8192;   // 4 MiB of 0xa1
constexpr uint64_t kSectorsB = 12288;  // 6 MiB of 0xb2
constexpr int kIterations = 400;  // about 40 s in the kvm-box (nested TCG)

std::string make_image(const std::string& path, uint64_t sectors, char byte) {
  std::ofstream(path, std::ios::binary) << std::string(sectors * 512, byte);
  return path;
}

std::string patch_body(const std::string& path) {
  return R"({"drive_id": "disk0", "path_on_host": ")" + path + R"("})";
}

TEST(KilnProbeHammer, PatchDrivesWhileTheGuestResetsTheDisk) {
  KILN_REQUIRE_KVM();
  const ScratchDir scratch;
  ASSERT_TRUE(scratch.ok());
  const std::string a = make_image(scratch.file("a.raw"), kSectorsA, '\xa1');
  const std::string b = make_image(scratch.file("b.raw"), kSectorsB, '\xb2');
  const std::string sock = scratch.file("api.sock");
  const std::string cmdline = "probe=blk-hammer blk-hammer.iterations=" + std::to_string(kIterations) +
                              " blk-hammer.sectors_a=" + std::to_string(kSectorsA) +
                              " blk-hammer.sectors_b=" + std::to_string(kSectorsB) + " blk-hammer.final=1";
  ChildProcess kiln(kiln_run({"--kernel", KILN_GUEST_PROBE, "--cmdline", cmdline, "--memory", "128M", "--disk", a,
                              "--console", "virtio", "--api-sock", sock}),
                    ChildStdin::kPipe);
  ASSERT_TRUE(kiln.wait_for_output("PROBE scenario blk-hammer", scaled(60s))) << kiln.out();

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> swaps{0};
  std::string first_error;
  std::thread hammer([&] {
    for (uint64_t i = 0; !stop.load(); ++i) {
      const ApiReply r = unix_http(sock, "PATCH", "/drives/disk0", patch_body(i % 2 == 0 ? b : a));
      if (r.status != 204) {
        first_error = std::to_string(r.status) + " " + r.body + r.error;
        return;
      }
      swaps.fetch_add(1);
    }
  });
  const bool done = kiln.wait_for_output("PROBE info blk-hammer.loop-done", scaled(600s));
  stop.store(true);
  hammer.join();
  EXPECT_TRUE(first_error.empty()) << "PATCH /drives failed after " << swaps.load() << " swaps: " << first_error;
  // The last swap, then the probe's signal: it reads the disk once more.
  const ApiReply last = unix_http(sock, "PATCH", "/drives/disk0", patch_body(b));
  EXPECT_EQ(last.status, 204) << last.body << last.error;
  kiln.send("go");
  const ChildResult r = kiln.wait(scaled(120s));
  ASSERT_TRUE(done) << "no 'PROBE info blk-hammer.loop-done' (a hang?)\n" << r.out << r.err;
  EXPECT_FALSE(r.timed_out) << r.out;
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.err;
  const ProbeOutput out = parse_probe_output(r.out);
  for (const auto& p : probe_run_problems(out, {r.exit_status, r.timed_out}, {})) ADD_FAILURE() << p << "\n" << r.out;
  expect_ok(out, {"blk-hammer.found", "blk-hammer.loop", "blk-hammer.final"});

  const ProbeLine* seen = out.find("result", "blk-hammer");
  ASSERT_NE(seen, nullptr) << r.out;
  // The swaps overlapped the loop: both images were seen, by size and by content.
  for (const char* key : {"capacity_a", "capacity_b", "data_a", "data_b"}) {
    EXPECT_GT(std::stoull(seen->fields.at(key)), 0u) << key << ": " << seen->detail;
  }
  const ProbeLine* final_read = out.find("result", "blk-hammer.final");
  ASSERT_NE(final_read, nullptr) << r.out;
  EXPECT_EQ(final_read->fields.at("sectors"), std::to_string(kSectorsB));
  EXPECT_EQ(final_read->fields.at("byte"), "0xb2");
  EXPECT_GE(swaps.load(), 20u) << "too few swaps during the loop to call it a hammer";
  std::printf("blk-hammer: %d guest iterations (%s), %llu PATCH /drives swaps meanwhile, %lld ms\n", kIterations,
              seen->detail.c_str(), static_cast<unsigned long long>(swaps.load()),
              static_cast<long long>(r.elapsed.count()));
}

}  // namespace
}  // namespace kiln::test
