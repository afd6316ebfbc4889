#include <filesystem>
#include <system_error>

#include "kvm_test_env.h"
#include "linux_guest.h"
#include "ready_guest.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

// Short console lines: busybox ash's line editor keeps at most 1024 bytes of a line.
constexpr size_t kChunk = 600;  // a multiple of 4: every chunk is whole base64 groups

}  // namespace

RestoredGuest::RestoredGuest(const std::vector<std::string>& extra_args) {
  const ReadyGuestFiles f;
  if (!dir_.ok()) {
    why_ = "no scratch directory";
    return;
  }
  std::vector<std::string> argv = {KILN_BINARY, "restore", "--snapshot", f.snapshot, "--mem", f.memory};
  const std::pair<const char*, std::string> disks[] = {{"raw", f.raw}, {"readonly", f.readonly}, {"ext4", f.ext4}};
  for (size_t i = 0; i < std::size(disks); ++i) {
    std::error_code ec;
    std::filesystem::copy_file(disks[i].second, disk(disks[i].first), ec);
    if (ec) {
      why_ = "copying " + disks[i].second + " (made by the LinuxReadyFixture test): " + ec.message();
      return;
    }
    argv.push_back("--disk-path");
    argv.push_back("disk" + std::to_string(i) + "=" + disk(disks[i].first));
  }
  // Restores run side by side: each needs its own vsock socket.
  argv.push_back("--vsock-uds");
  argv.push_back(vsock_uds());
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  vmm_ = std::make_unique<ChildProcess>(argv, ChildStdin::kPipe);
}

std::string RestoredGuest::send_script(const std::string& script) {
  const std::string n = std::to_string(++runs_);
  const std::string file = "/tmp/kiln-run-" + n;
  const std::string encoded = base64(script);
  for (size_t i = 0; i < encoded.size(); i += kChunk) {
    if (!vmm_->send("printf %s " + encoded.substr(i, kChunk) + " >> " + file + ".b64\n")) return "";
  }
  if (!vmm_->send("base64 -d " + file + ".b64 > " + file + ".sh\n")) return "";
  return n;
}

bool RestoredGuest::start(const std::string& script) {
  const std::string n = send_script(script);
  return !n.empty() && vmm_->send("sh /tmp/kiln-run-" + n + ".sh &\n");
}

ShellRun RestoredGuest::run(const std::string& script, std::chrono::milliseconds timeout) {
  ShellRun result;
  const size_t from = vmm_->out().size();
  const std::string n = send_script(script);
  // The typed line is echoed; the markers are built by the shell ($((N))), so only its output
  // contains "@@bN" and "@@eN:".
  if (n.empty() || !vmm_->send("echo \"@@b$((" + n + "))\"; sh /tmp/kiln-run-" + n + ".sh; echo \"@@e$((" + n +
                               ")):$?\"\n")) {
    return result;
  }
  const std::string begin = "@@b" + n + "\r\n";
  const std::string end = "@@e" + n + ":";
  if (!vmm_->wait_for_output(end, timeout, from)) return result;
  const size_t end_at = vmm_->out().find(end, from);
  if (!vmm_->wait_for_output("\n", 10s, end_at)) return result;
  const std::string& out = vmm_->out();
  const size_t begin_at = out.find(begin, from);
  if (begin_at == std::string::npos || begin_at > end_at) return result;
  result.done = true;
  result.status = std::atoi(out.c_str() + end_at + end.size());
  result.output = without_cr(out.substr(begin_at + begin.size(), end_at - begin_at - begin.size()));
  return result;
}

ChildResult RestoredGuest::exit() {
  (void)vmm_->send("exit 0\n");
  return vmm_->wait(scaled(300s));
}

const std::string& RestoredGuest::console() const { return vmm_->out(); }

}  // namespace kiln::test
