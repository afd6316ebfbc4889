// ConsoleOutput (src/vmm/console_output.h): two streams on one destination keep their lines whole;
// a line left unfinished holds the other stream back only for a bounded time and size.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "vmm/console_output.h"

namespace kiln {
namespace {

using namespace std::chrono_literals;

// The destination: every sink call is one write, recorded whole.
struct Destination {
  std::mutex mu;
  std::string text;
  std::vector<std::string> writes;

  ConsoleOutput::Sink sink() {
    return [this](std::span<const uint8_t> b) {
      std::lock_guard lock(mu);
      text.append(b.begin(), b.end());
      writes.emplace_back(b.begin(), b.end());
    };
  }
  std::string get() {
    std::lock_guard lock(mu);
    return text;
  }
  // Waits up to 5 s for `text` to contain `needle`.
  bool wait_for(const std::string& needle) {
    for (int i = 0; i < 5000; ++i) {
      if (get().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
};

void put(const ConsoleOutput::Writer& w, const std::string& s) {
  w(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// One byte per call, as the UART writes.
void put_bytes(const ConsoleOutput::Writer& w, const std::string& s) {
  for (char c : s) put(w, std::string(1, c));
}

std::shared_ptr<ConsoleOutput> make(Destination& d, ConsoleOutput::Limits limits) {
  auto out = ConsoleOutput::create(d.sink(), limits);
  EXPECT_TRUE(out.has_value());
  return *out;
}

constexpr ConsoleOutput::Limits kNoTimeouts{4096, 1h, 1h};

TEST(ConsoleOutput, SingleStreamPassesBytesThroughAtOnce) {
  Destination d;
  auto out = make(d, kNoTimeouts);
  auto uart = out->stream();
  auto hvc = out->stream();  // present but silent: nothing is held back
  put_bytes(uart, "login: ");
  EXPECT_EQ(d.get(), "login: ");
  EXPECT_EQ(d.writes.size(), 7u);
  EXPECT_EQ(out->pending_bytes(), 0u);
}

TEST(ConsoleOutput, LineOfOneStreamWaitsForTheOthersLineToEnd) {
  Destination d;
  auto out = make(d, kNoTimeouts);
  auto uart = out->stream();
  auto hvc = out->stream();
  put_bytes(uart, "PROBE ok console");
  put(hvc, "kiln-probe-console-hello\n");  // the flake: this used to land inside the UART's line
  EXPECT_EQ(d.get(), "PROBE ok console");
  EXPECT_EQ(out->pending_bytes(), 25u);
  put_bytes(uart, ".transmit\n");
  EXPECT_EQ(d.get(), "PROBE ok console.transmit\nkiln-probe-console-hello\n");
  EXPECT_EQ(out->pending_bytes(), 0u);
}

TEST(ConsoleOutput, WaitingPartialLineTakesTheLineOver) {
  Destination d;
  auto out = make(d, kNoTimeouts);
  auto a = out->stream();
  auto b = out->stream();
  put(a, "a1");
  put(b, "b1\nb2");  // waits; once out, b2 is the unfinished line
  put(a, "\n");
  put(a, "a2\n");  // waits for b's line now
  EXPECT_EQ(d.get(), "a1\nb1\nb2");
  put(b, "\n");
  EXPECT_EQ(d.get(), "a1\nb1\nb2\na2\n");
}

TEST(ConsoleOutput, PromptLeftUnfinishedReleasesTheOtherStreamAfterIdle) {
  Destination d;
  auto out = make(d, {4096, 50ms, 1h});
  auto uart = out->stream();
  auto hvc = out->stream();
  put(uart, "# ");  // a shell prompt: shown at once
  EXPECT_EQ(d.get(), "# ");
  const auto start = std::chrono::steady_clock::now();
  put(hvc, "hvc line\n");
  ASSERT_TRUE(d.wait_for("hvc line\n"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
  EXPECT_EQ(d.get(), "# hvc line\n");
  // The prompt sat longer than `idle`: the next line of the other stream is not held at all.
  put(uart, "ls");
  std::this_thread::sleep_for(80ms);
  put(hvc, "x\n");
  EXPECT_EQ(d.get(), "# hvc line\nlsx\n");
}

TEST(ConsoleOutput, NoByteWaitsLongerThanMaxHold) {
  Destination d;
  auto out = make(d, {4096, 1h, 100ms});
  auto a = out->stream();
  auto b = out->stream();
  put(a, ".");
  const auto start = std::chrono::steady_clock::now();
  put(b, "held\n");
  // `a` keeps writing without a newline (never idle), yet `b` gets out.
  while (d.get().find("held\n") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now() - start, 5s);
    put(a, ".");
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
}

TEST(ConsoleOutput, WaitingBytesAreBounded) {
  Destination d;
  auto out = make(d, {64, 1h, 1h});
  auto a = out->stream();
  auto b = out->stream();
  put(a, "unfinished");
  for (int i = 0; i < 1000; ++i) {
    put(b, "0123456789\n");
    ASSERT_LE(out->pending_bytes(), 64u);
  }
  const std::string text = d.get();
  EXPECT_EQ(text.rfind("unfinished0123456789\n", 0), 0u) << "the bound writes after the unfinished line";
  EXPECT_EQ(text.size() + out->pending_bytes(), 10 + 11000u);  // nothing lost
  // A single write larger than the bound goes out at once.
  put(a, "again");
  put(b, std::string(100, 'x'));
  EXPECT_LE(out->pending_bytes(), 64u);
}

TEST(ConsoleOutput, FlushAndDestructionWriteWhatWaits) {
  Destination d;
  auto out = make(d, kNoTimeouts);
  auto a = out->stream();
  auto b = out->stream();
  put(a, "a");
  put(b, "b\n");
  out->flush();
  EXPECT_EQ(d.get(), "ab\n");
  put(b, "c");
  put(a, "d\n");
  a = nullptr;
  b = nullptr;
  out.reset();  // the last owner: the destructor writes "d\n"
  EXPECT_EQ(d.get(), "ab\ncd\n");
}

// Two threads, one writing byte by byte (the UART) and one in arbitrary pieces (the virtio
// console): every line of the destination is a whole line of one stream, and each stream's
// lines arrive complete and in order.
TEST(ConsoleOutput, InterleavedThreadsNeverSplitALine) {
  Destination d;
  auto out = make(d, {1 << 20, 1h, 1h});
  auto uart = out->stream();
  auto hvc = out->stream();
  constexpr int kLines = 2000;
  auto line = [](char tag, int i) { return std::string(1, tag) + std::to_string(i) + std::string(i % 37, tag) + "\n"; };
  std::thread t1([&] {
    for (int i = 0; i < kLines; ++i) put_bytes(uart, line('u', i));
  });
  std::thread t2([&] {
    std::string all;
    for (int i = 0; i < kLines; ++i) all += line('h', i);
    // Pieces of 1..13 bytes: lines start and end in the middle of writes.
    for (size_t pos = 0, n = 1; pos < all.size(); pos += n, n = n % 13 + 1) put(hvc, all.substr(pos, n));
  });
  t1.join();
  t2.join();
  out->flush();
  int next_u = 0;
  int next_h = 0;
  size_t start = 0;
  const std::string text = d.get();
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const std::string got = text.substr(start, end - start + 1);
    start = end + 1;
    ASSERT_FALSE(got.empty());
    int& next = got[0] == 'u' ? next_u : next_h;
    ASSERT_EQ(got, line(got[0], next)) << "a split or foreign line";
    ++next;
  }
  EXPECT_EQ(next_u, kLines);
  EXPECT_EQ(next_h, kLines);
}

}  // namespace
}  // namespace kiln
