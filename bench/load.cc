// Load on a daemon while one job trains: W followed watchers of that job, each on a connection of its
// own, plus N control calls (submit, list, status in turn) from 8 client threads, paced at R per second. Afterwards every
// watcher's events are compared with the job's stored history (a missed or repeated event is counted),
// and the daemon's peak RSS (VmHWM) is read from /proc. Prints one JSON line. The jobs the calls
// submitted (one step each, lowest priority) are cancelled at the end.
//   load_bench --addr ADDR --config F --daemon-pid P [--watchers 100] [--calls 1000] [--rate 50]
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ttsd/v1/ttsd.grpc.pb.h"

namespace {

using Stub = ttsd::v1::TrainingService::Stub;

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5))];
}

// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat.
double ProcCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f && i <= 15; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// kB of a /proc/<pid>/status line such as VmHWM or VmRSS.
long ProcStatusKb(int pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  }
  return -1;
}

// One followed WatchJob stream of every event; keeps the seqs it received.
class Watcher : public grpc::ClientReadReactor<ttsd::v1::JobEvent> {
 public:
  Watcher(Stub* stub, uint64_t job, std::function<void()> done) : done_(std::move(done)) {
    req_.set_job_id(job);
    req_.set_follow(true);
    stub->async()->WatchJob(&ctx_, &req_, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (event_.seq() > 0) seqs_.push_back(event_.seq());
    StartRead(&event_);
  }
  void OnDone(const grpc::Status& st) override {
    ok_ = st.ok();
    done_();
  }
  const std::vector<uint64_t>& seqs() const { return seqs_; }
  bool ok() const { return ok_; }

 private:
  grpc::ClientContext ctx_;
  ttsd::v1::WatchJobRequest req_;
  ttsd::v1::JobEvent event_;
  std::vector<uint64_t> seqs_;
  bool ok_ = false;
  std::function<void()> done_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr, config;
  int watchers = 100, calls = 1000, daemon_pid = 0;
  double rate = 50;  // calls per second, spread over the training rather than one burst
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--addr") addr = v;
    if (k == "--config") config = v;
    if (k == "--watchers") watchers = std::stoi(v);
    if (k == "--calls") calls = std::stoi(v);
    if (k == "--daemon-pid") daemon_pid = std::stoi(v);
    if (k == "--rate") rate = std::stod(v);
  }
  if (addr.empty() || config.empty() || daemon_pid <= 0) {
    std::fprintf(stderr, "usage: load_bench --addr ADDR --config F --daemon-pid P [--watchers W] [--calls N] [--rate R]\n");
    return 2;
  }
  auto stub = ttsd::v1::TrainingService::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  ttsd::v1::SubmitJobRequest submit;
  submit.set_config_yaml(ReadFile(config));
  submit.set_config_dir(std::filesystem::absolute(config).parent_path().string());
  ttsd::v1::SubmitJobResponse resp;
  {
    grpc::ClientContext ctx;
    if (grpc::Status st = stub->SubmitJob(&ctx, submit, &resp); !st.ok()) {
      std::fprintf(stderr, "submit: %s\n", st.error_message().c_str());
      return 1;
    }
  }
  const uint64_t job = resp.job().id();
  const long rss_before_kb = ProcStatusKb(daemon_pid, "VmRSS");
  const double daemon_cpu0 = ProcCpuSeconds(daemon_pid), self_cpu0 = SelfCpuSeconds();

  std::mutex mu;
  std::condition_variable cv;
  int open = watchers;
  std::vector<std::unique_ptr<Stub>> stubs;
  std::vector<std::unique_ptr<Watcher>> all;
  for (int w = 0; w < watchers; ++w) {
    grpc::ChannelArguments args;
    args.SetInt("ttsd.bench.watcher", w);  // distinct args: a connection each, as separate clients
    stubs.push_back(ttsd::v1::TrainingService::NewStub(
        grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args)));
    all.push_back(std::make_unique<Watcher>(stubs.back().get(), job, [&] {
      std::lock_guard<std::mutex> lock(mu);
      if (--open == 0) cv.notify_all();
    }));
  }

  // The control calls: submit (a 1-step job at the lowest priority), list, status of the training job.
  ttsd::v1::SubmitJobRequest small = submit;
  small.set_max_steps(1);
  small.set_priority(-1000);
  std::atomic<int> next{0}, errors{0};
  std::vector<double> latencies_ms;
  std::vector<uint64_t> submitted;
  std::vector<std::thread> clients;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      std::vector<double> mine;
      std::vector<uint64_t> ids;
      for (int i = next++; i < calls; i = next++) {
        std::this_thread::sleep_until(t0 + std::chrono::duration<double>(i / rate));
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        auto c0 = std::chrono::steady_clock::now();
        grpc::Status st;
        if (i % 3 == 0) {
          ttsd::v1::SubmitJobResponse r;
          st = stub->SubmitJob(&ctx, small, &r);
          if (st.ok()) ids.push_back(r.job().id());
        } else if (i % 3 == 1) {
          ttsd::v1::ListJobsRequest req;
          ttsd::v1::ListJobsResponse r;
          st = stub->ListJobs(&ctx, req, &r);
        } else {
          ttsd::v1::JobRef ref;
          ref.set_job_id(job);
          ttsd::v1::Job r;
          st = stub->GetJob(&ctx, ref, &r);
        }
        mine.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c0).count());
        if (!st.ok()) ++errors;
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      submitted.insert(submitted.end(), ids.begin(), ids.end());
    });
  }
  for (auto& c : clients) c.join();
  const double calls_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open == 0; });
  }
  const long hwm_kb = ProcStatusKb(daemon_pid, "VmHWM");
  const double daemon_cpu = ProcCpuSeconds(daemon_pid) - daemon_cpu0, client_cpu = SelfCpuSeconds() - self_cpu0;

  // The job's whole stored history, then each watcher against it.
  std::vector<uint64_t> stored;
  {
    grpc::ClientContext ctx;
    ttsd::v1::WatchJobRequest req;
    req.set_job_id(job);
    auto reader = stub->WatchJob(&ctx, req);
    ttsd::v1::JobEvent e;
    while (reader->Read(&e)) {
      if (e.seq() > 0) stored.push_back(e.seq());
    }
    reader->Finish();
  }
  int failed_streams = 0, watchers_missing = 0;
  size_t missed = 0;
  for (const auto& w : all) {
    failed_streams += !w->ok();
    if (w->seqs() != stored) {
      ++watchers_missing;
      missed += stored.size() > w->seqs().size() ? stored.size() - w->seqs().size() : 0;
    }
  }
  for (uint64_t id : submitted) {
    grpc::ClientContext ctx;
    ttsd::v1::JobRef ref;
    ref.set_job_id(id);
    ttsd::v1::Job r;
    stub->CancelJob(&ctx, ref, &r);
  }
  std::printf("{\"job\": %llu, \"watchers\": %d, \"events\": %zu, \"watchers_with_a_gap_or_extra\": %d, "
              "\"events_missed\": %zu, \"failed_streams\": %d, \"calls\": %d, \"call_errors\": %d, \"calls_s\": %.2f, "
              "\"call_p50_ms\": %.2f, \"call_p99_ms\": %.2f, \"daemon_rss_before_mb\": %.1f, \"daemon_peak_rss_mb\": %.1f, "
              "\"daemon_cpu_s\": %.2f, \"load_client_cpu_s\": %.2f}\n",
              static_cast<unsigned long long>(job), watchers, stored.size(), watchers_missing, missed, failed_streams,
              calls, errors.load(), calls_s, Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99),
              rss_before_kb / 1024.0, hwm_kb / 1024.0, daemon_cpu, client_cpu);
  return watchers_missing == 0 && failed_streams == 0 && errors == 0 ? 0 : 1;
}
