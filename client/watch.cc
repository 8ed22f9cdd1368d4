#include "client/watch.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "client/format.h"

namespace ttsd::client {
namespace {

char g_detach_message[160];

void OnInterrupt(int) {
  ssize_t ignored = ::write(STDERR_FILENO, g_detach_message, std::strlen(g_detach_message));
  (void)ignored;
  ::_exit(130);
}

class Printer {
 public:
  Printer(uint64_t job, const WatchOptions& o) : job_(job), o_(o), tty_(::isatty(STDOUT_FILENO) && !o.lines_only) {}

  void Print(const ttsd::v1::JobEvent& e) {
    if (o_.json) {
      std::printf("%s\n", ToJson(e).c_str());
      std::fflush(stdout);
      if (e.has_sample() && !o_.lines_only) SaveSample(e.sample(), /*announce=*/false);
      return;
    }
    if (e.has_progress()) {
      Progress(e.progress());
    } else if (e.has_state()) {
      const auto& s = e.state();
      Line("state " + StateName(s.state()) + (s.reason().empty() ? "" : " (" + s.reason() + ")") +
           (s.message().empty() ? "" : ": " + s.message()));
    } else if (e.has_validation()) {
      const auto& v = e.validation();
      Line("validation step " + std::to_string(v.step()) + ": " + FormatValues(v.metrics()) +
           (v.is_best() ? "  (best so far)" : ""));
    } else if (e.has_checkpoint()) {
      const auto& c = e.checkpoint();
      Line("checkpoint step " + std::to_string(c.step()) + ": " + c.path() + (c.is_best() ? " (best)" : ""));
    } else if (e.has_sample()) {
      if (!o_.lines_only) SaveSample(e.sample(), /*announce=*/true);
    } else if (e.has_log()) {
      Line(e.log().text());
    } else if (e.has_end()) {
      Line("job " + std::to_string(job_) + " " + StateName(e.end().final_state()) +
           (e.end().reason().empty() ? "" : " (" + e.end().reason() + ")"));
    }
  }

  void Note(const std::string& s) {
    if (o_.json) {
      std::fprintf(stderr, "ttsctl: %s\n", s.c_str());
    } else {
      Line("ttsctl: " + s);
    }
  }

 private:
  void Line(const std::string& s) {
    if (bar_shown_) std::printf("\r\033[K");
    std::printf("%s\n", s.c_str());
    if (bar_shown_) std::printf("%s", bar_.c_str());
    std::fflush(stdout);
  }

  void Progress(const ttsd::v1::Progress& p) {
    char head[160];
    double rate = p.step_seconds() > 0 ? 1.0 / p.step_seconds() : 0;
    std::string lr_text;
    if (p.learning_rate() > 0) {
      char lr[32];
      std::snprintf(lr, sizeof(lr), " lr %.3g", p.learning_rate());
      lr_text = lr;
    }
    std::string bar;
    if (p.total_steps() > 0) {
      double frac = std::min(1.0, static_cast<double>(p.step()) / static_cast<double>(p.total_steps()));
      int filled = static_cast<int>(frac * 20);
      bar = "[" + std::string(filled, '#') + std::string(20 - filled, '.') + "] ";
      std::snprintf(head, sizeof(head), "step %lld/%lld %3.0f%% | epoch %lld | %.2f steps/s | ETA %s | ",
                    static_cast<long long>(p.step()), static_cast<long long>(p.total_steps()), frac * 100,
                    static_cast<long long>(p.epoch()), rate, FormatSeconds(p.eta_seconds()).c_str());
    } else {
      std::snprintf(head, sizeof(head), "step %lld | epoch %lld | %.2f steps/s | ", static_cast<long long>(p.step()),
                    static_cast<long long>(p.epoch()), rate);
    }
    std::string text = bar + head + FormatValues(p.losses()) + lr_text;
    if (!tty_) {
      std::printf("%s\n", text.c_str());
      std::fflush(stdout);
      return;
    }
    bar_ = text;
    bar_shown_ = true;
    std::printf("\r\033[K%s", bar_.c_str());
    std::fflush(stdout);
  }

  void SaveSample(const ttsd::v1::AudioSample& s, bool announce) {
    if (s.wav().empty()) return;
    std::filesystem::path dir = std::filesystem::path(o_.samples_dir) / std::to_string(job_);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::string tag = s.tag().empty() ? "sample" : s.tag();
    for (char& c : tag) {
      if (c == '/' || c == '\\' || c == '\0') c = '_';  // a tag is a file name here, never a path
    }
    if (tag[0] == '.') tag[0] = '_';
    std::string name = "step" + std::to_string(s.step()) + "-" + tag + ".wav";
    std::filesystem::path path = dir / name;
    std::ofstream out(path, std::ios::binary);
    out.write(s.wav().data(), static_cast<std::streamsize>(s.wav().size()));
    if (!out) {
      Note("cannot write " + path.string());
      return;
    }
    if (announce) {
      char dur[32];
      std::snprintf(dur, sizeof(dur), "%.1f s", s.duration_seconds());
      Line("audio step " + std::to_string(s.step()) + " '" + s.tag() + "' (" + dur + "): " + path.string() +
           (s.text().empty() ? "" : "  \"" + s.text() + "\""));
    }
  }

  uint64_t job_;
  const WatchOptions& o_;
  bool tty_;
  bool bar_shown_ = false;
  std::string bar_;
};

// Cancels the stream when nothing (not even a heartbeat) arrived for the stall timeout.
class StallWatchdog {
 public:
  StallWatchdog(grpc::ClientContext* ctx, double timeout_s) : ctx_(ctx), timeout_(timeout_s) {
    thread_ = std::thread([this] { Run(); });
  }
  ~StallWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Alive() { last_ = Clock::now().time_since_epoch().count(); }
  bool fired() const { return fired_; }

 private:
  using Clock = std::chrono::steady_clock;
  void Run() {
    Alive();
    std::unique_lock<std::mutex> lock(mu_);
    while (!done_) {
      cv_.wait_for(lock, std::chrono::milliseconds(250));
      double idle = std::chrono::duration<double>(Clock::now().time_since_epoch() -
                                                  Clock::duration(last_.load())).count();
      if (!done_ && idle > timeout_) {
        fired_ = true;
        ctx_->TryCancel();
        return;
      }
    }
  }
  grpc::ClientContext* ctx_;
  double timeout_;
  std::atomic<Clock::rep> last_{0};
  std::atomic<bool> fired_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

bool Retryable(const grpc::Status& st, bool stalled) {
  auto c = st.error_code();
  return stalled || c == grpc::StatusCode::UNAVAILABLE || c == grpc::StatusCode::INTERNAL ||
         c == grpc::StatusCode::UNKNOWN || c == grpc::StatusCode::ABORTED || c == grpc::StatusCode::CANCELLED;
}

}  // namespace

int Watch(Connection& conn, uint64_t job_id, const WatchOptions& o) {
  std::snprintf(g_detach_message, sizeof(g_detach_message),
                "\nttsctl: detached; job %llu keeps running (`ttsctl watch %llu` to follow it again)\n",
                static_cast<unsigned long long>(job_id), static_cast<unsigned long long>(job_id));
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);

  Printer printer(job_id, o);
  uint64_t cursor = o.after_seq;
  bool received_any = false;
  while (true) {
    auto ctx = conn.Context(0);
    ttsd::v1::WatchJobRequest req;
    req.set_job_id(job_id);
    req.set_after_seq(cursor);
    req.set_follow(true);
    for (auto k : o.kinds) req.add_kinds(k);
    std::optional<ttsd::v1::EndOfStream> end;
    grpc::Status st;
    bool stalled = false;
    {
      StallWatchdog watchdog(ctx.get(), o.stall_timeout_s);
      auto reader = conn.stub().WatchJob(ctx.get(), req);
      ttsd::v1::JobEvent e;
      while (reader->Read(&e)) {
        watchdog.Alive();
        received_any = true;
        if (e.seq() > 0) cursor = e.seq();
        if (e.has_heartbeat()) continue;
        printer.Print(e);
        if (e.has_end()) end = e.end();
      }
      st = reader->Finish();
      stalled = watchdog.fired();
    }
    if (end) return end->final_state() == ttsd::v1::JOB_STATE_SUCCEEDED ? kExitOk : kExitFailed;
    if (!received_any && st.error_code() == grpc::StatusCode::UNAVAILABLE) return conn.Report(st);
    if (!Retryable(st, stalled)) return conn.Report(st);
    printer.Note(std::string(stalled ? "no word from the daemon" : "connection lost (" + st.error_message() + ")") +
                 "; reconnecting from event " + std::to_string(cursor));
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace ttsd::client
