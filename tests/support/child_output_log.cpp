#include "child_output_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <vector>

namespace kiln::test {
namespace {

struct Entry {
  const ChildProcess* live = nullptr;  // nullptr once finished
  std::string command;
  ChildResult finished;                // valid once finished
  size_t out_from = 0;                 // output printed before the current test began
  size_t err_from = 0;
};

struct Log {
  std::mutex mu;
  std::vector<Entry> entries;  // children of the current test, and live ones from earlier tests
};

Log& log() {
  static Log* l = new Log;  // never destroyed: children may outlive static destruction order
  return *l;
}

void print(const Entry& e) {
  const ChildResult& r = e.live != nullptr ? e.live->result() : e.finished;
  const std::string out = r.out.size() > e.out_from ? r.out.substr(e.out_from) : "";
  const std::string err = r.err.size() > e.err_from ? r.err.substr(e.err_from) : "";
  std::string status = e.live != nullptr  ? "still running"
                       : r.exit_status < 0 ? "killed when the test let go of it"
                                           : "exit status " + std::to_string(r.exit_status);
  if (r.timed_out) status += " (killed at its deadline)";
  std::printf("--- child: %s\n--- %s; its stdout (%zu bytes%s):\n%s\n--- its stderr (%zu bytes):\n%s\n--- end of child\n",
              e.command.c_str(), status.c_str(), out.size(), e.out_from > 0 ? " in this test" : "",
              output_tail(out).c_str(), err.size(), output_tail(err).c_str());
}

class Listener : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override {
    std::lock_guard lock(log().mu);
    auto& entries = log().entries;
    std::erase_if(entries, [](const Entry& e) { return e.live == nullptr; });
    for (auto& e : entries) {
      e.out_from = e.live->result().out.size();
      e.err_from = e.live->result().err.size();
    }
  }
  // Runs before GoogleTest prints "[  FAILED  ]" (end events go to listeners in reverse order).
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result() == nullptr || !info.result()->Failed()) return;
    std::lock_guard lock(log().mu);
    if (log().entries.empty()) return;
    std::printf("=== %s.%s failed; the output of its children (the last %zu bytes of each):\n", info.test_suite_name(),
                info.name(), kOutputTailBytes);
    for (const auto& e : log().entries) print(e);
    std::fflush(stdout);
  }
};

void child_started(const ChildProcess* child, std::string command) {
  std::lock_guard lock(log().mu);
  log().entries.push_back(Entry{child, std::move(command), {}, 0, 0});
}

void child_finished(const ChildProcess* child, const ChildResult& result) {
  std::lock_guard lock(log().mu);
  for (auto& e : log().entries) {
    if (e.live == child) {
      e.live = nullptr;
      e.finished = result;
    }
  }
}

const bool kInstalled = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new Listener);
  set_child_hooks({child_started, child_finished});
  return true;
}();

}  // namespace

std::string output_tail(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t start = text.size() - max;
  const size_t line = text.find('\n', start);
  if (line != std::string::npos && line - start < 200) start = line + 1;
  return "[... " + std::to_string(start) + " bytes before ...]\n" + text.substr(start);
}

}  // namespace kiln::test
