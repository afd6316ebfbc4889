#include "vmm/console_output.h"

#include <algorithm>

namespace kiln {

Result<std::shared_ptr<ConsoleOutput>> ConsoleOutput::create(Sink sink, Limits limits) {
  std::shared_ptr<ConsoleOutput> out(new ConsoleOutput(std::move(sink), limits));
  try {
    out->timer_ = std::thread([o = out.get()] { o->run_timer(); });
  } catch (const std::system_error& e) {
    return fail("starting the console output thread: {}", e.what());
  }
  return out;
}

ConsoleOutput::~ConsoleOutput() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    flush_locked(Clock::now());
  }
  wake_.notify_all();
  if (timer_.joinable()) timer_.join();
}

ConsoleOutput::Writer ConsoleOutput::stream() {
  size_t id = 0;
  {
    std::lock_guard lock(mu_);
    id = streams_.size();
    streams_.emplace_back();
  }
  return [self = shared_from_this(), id](std::span<const uint8_t> bytes) { self->write(id, bytes); };
}

void ConsoleOutput::flush() {
  std::lock_guard lock(mu_);
  flush_locked(Clock::now());
}

void ConsoleOutput::flush_locked(Clock::time_point now) {
  // Each round releases the current line and writes at least one stream's bytes.
  while (std::any_of(streams_.begin(), streams_.end(), [](const Stream& s) { return !s.pending.empty(); })) {
    pump_locked(now, true);
  }
  owner_ = kNone;
}

size_t ConsoleOutput::pending_bytes() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& s : streams_) n += s.pending.size();
  return n;
}

void ConsoleOutput::write(size_t stream, std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  bool waiting = false;
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    Stream& s = streams_[stream];
    if (s.pending.empty() && (owner_ == kNone || owner_ == stream)) {
      emit_locked(stream, bytes, now);  // the common case: nobody else is mid-line
      if (owner_ == kNone) pump_locked(now, false);  // a line ended: the others' turn
      return;
    }
    if (s.pending.size() + bytes.size() > limits_.max_pending) {
      // The bound: everything waiting goes out after the unfinished line, then these bytes.
      flush_locked(now);
      emit_locked(stream, bytes, now);
      return;
    }
    if (s.pending.empty()) s.since = now;
    s.pending.insert(s.pending.end(), bytes.begin(), bytes.end());
    pump_locked(now, hold_expired_locked(now));
    waiting = !s.pending.empty();
  }
  if (waiting) wake_.notify_all();  // the timer thread learns the new deadline
}

void ConsoleOutput::emit_locked(size_t stream, std::span<const uint8_t> bytes, Clock::time_point now) {
  if (bytes.empty()) return;
  sink_(bytes);
  owner_ = bytes.back() == '\n' ? kNone : stream;
  last_write_ = now;
}

void ConsoleOutput::pump_locked(Clock::time_point now, bool release) {
  while (true) {
    if (owner_ != kNone && !streams_[owner_].pending.empty()) {
      const size_t owner = owner_;
      emit_locked(owner, streams_[owner].pending, now);
      streams_[owner].pending.clear();
      continue;
    }
    if (owner_ != kNone) {
      if (!release) return;
      owner_ = kNone;  // its line stays unfinished; the waiting bytes follow it
      release = false;
    }
    // Nobody is mid-line: the stream that has waited longest goes first.
    size_t next = kNone;
    for (size_t i = 0; i < streams_.size(); ++i) {
      if (!streams_[i].pending.empty() && (next == kNone || streams_[i].since < streams_[next].since)) next = i;
    }
    if (next == kNone) return;
    emit_locked(next, streams_[next].pending, now);
    streams_[next].pending.clear();
  }
}

bool ConsoleOutput::hold_expired_locked(Clock::time_point now) const { return now >= next_deadline_locked(); }

ConsoleOutput::Clock::time_point ConsoleOutput::next_deadline_locked() const {
  auto deadline = Clock::time_point::max();
  for (const auto& s : streams_) {
    if (!s.pending.empty()) deadline = std::min(deadline, s.since + limits_.max_hold);
  }
  if (deadline != Clock::time_point::max()) deadline = std::min(deadline, last_write_ + limits_.idle);
  return deadline;
}

void ConsoleOutput::run_timer() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto deadline = next_deadline_locked();
    if (deadline == Clock::time_point::max()) {
      wake_.wait(lock);
    } else if (wake_.wait_until(lock, deadline) == std::cv_status::timeout) {
      const auto now = Clock::now();
      pump_locked(now, hold_expired_locked(now));
    }
  }
}

}  // namespace kiln
