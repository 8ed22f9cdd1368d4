#include "core/common/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ttsd::core {

Progress::Progress(std::string label, size_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::Add(size_t n) {
  size_t done = (done_ += n);
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  Draw(done, false);
}

void Progress::Finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  Draw(done_.load(), true);
}

void Progress::Draw(size_t done, bool final) {
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  int pct = total_ == 0 ? 100 : static_cast<int>(100.0 * done / total_);
  if (!final) {
    if (tty_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    if (!tty_ && (pct / 10 == last_decile_ || pct >= 100)) return;
  }
  last_draw_ = now;
  last_decile_ = pct / 10;
  double rate = elapsed > 0 ? done / elapsed : 0;
  long eta = rate > 0 ? static_cast<long>((total_ - done) / rate) : 0;
  std::fprintf(stderr, "%s%s  %zu/%zu  %3d%%  %.1f/s  %s %ld:%02ld%s", tty_ ? "\r" : "", label_.c_str(),
               done, total_, pct, rate, final ? "took" : "ETA",
               final ? static_cast<long>(elapsed) / 60 : eta / 60,
               final ? static_cast<long>(elapsed) % 60 : eta % 60, (final || !tty_) ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace ttsd::core
