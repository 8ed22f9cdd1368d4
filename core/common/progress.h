// A thread-safe progress line on stderr: "label  123/456  27%  12.3/s  ETA 0:41". Redraws in place on a
// terminal; elsewhere prints at most every 10%, so logs stay readable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace ttsd::core {

class Progress {
 public:
  Progress(std::string label, size_t total, bool enabled = true);
  void Add(size_t n = 1);
  void Finish();

 private:
  void Draw(size_t done, bool final);

  std::string label_;
  size_t total_;
  bool enabled_;
  bool tty_;
  std::atomic<size_t> done_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int last_decile_ = -1;
};

}  // namespace ttsd::core
