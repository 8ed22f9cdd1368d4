// Event latency through the daemon: from the worker logging a step (Progress.wall_time, stamped in the
// worker) to a watcher receiving it, with W concurrent watchers of the same job. Submits the config to
// a running daemon, opens W followed WatchJob streams, and prints one JSON line with p50/p90/p99/max
// in milliseconds over every (watcher, progress event) pair received live.
//   event_latency_bench --addr unix:///.../ttsd.sock --config F --watchers W [--separate]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "ttsd/v1/ttsd.grpc.pb.h"

namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// One followed WatchJob stream; records receipt - Progress.wall_time for each live progress event.
class Watcher : public grpc::ClientReadReactor<ttsd::v1::JobEvent> {
 public:
  Watcher(ttsd::v1::TrainingService::Stub* stub, uint64_t job, std::function<void(const std::vector<double>&)> done)
      : done_(std::move(done)) {
    req_.set_job_id(job);
    req_.set_follow(true);
    req_.add_kinds(ttsd::v1::EVENT_KIND_PROGRESS);
    stub->async()->WatchJob(&ctx_, &req_, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    double now = NowSeconds();
    // Only events received live: a watcher that connected late replays older ones from the store.
    if (event_.has_progress() && now - event_.progress().wall_time() < 1.0) {
      latencies_.push_back((now - event_.progress().wall_time()) * 1000);
    }
    StartRead(&event_);
  }
  void OnDone(const grpc::Status&) override { done_(latencies_); }

 private:
  grpc::ClientContext ctx_;
  ttsd::v1::WatchJobRequest req_;
  ttsd::v1::JobEvent event_;
  std::vector<double> latencies_;
  std::function<void(const std::vector<double>&)> done_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string addr, config;
  int watchers = 1;
  bool separate = false;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--separate") {
      separate = true;
    } else if (i + 1 < argc) {
      if (k == "--addr") addr = argv[i + 1];
      if (k == "--config") config = argv[i + 1];
      if (k == "--watchers") watchers = std::stoi(argv[i + 1]);
      ++i;
    }
  }
  if (addr.empty() || config.empty() || watchers < 1) {
    std::fprintf(stderr, "usage: event_latency_bench --addr ADDR --config F --watchers W [--separate]\n");
    return 2;
  }
  auto channel = grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  auto stub = ttsd::v1::TrainingService::NewStub(channel);
  std::ifstream in(config);
  std::stringstream text;
  text << in.rdbuf();
  ttsd::v1::SubmitJobRequest req;
  req.set_config_yaml(text.str());
  req.set_config_dir(std::filesystem::absolute(config).parent_path().string());
  ttsd::v1::SubmitJobResponse resp;
  {
    grpc::ClientContext ctx;
    grpc::Status st = stub->SubmitJob(&ctx, req, &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "submit: %s\n", st.error_message().c_str());
      return 1;
    }
  }
  const uint64_t job = resp.job().id();
  // The watchers use gRPC's callback client (a few shared threads), as an event-driven client would;
  // 100 threads blocked in synchronous reads would mostly measure this machine's context switches.
  std::mutex mu;
  std::condition_variable cv;
  int open = watchers;
  std::vector<double> latencies_ms;
  std::vector<std::unique_ptr<ttsd::v1::TrainingService::Stub>> stubs;
  std::vector<std::unique_ptr<Watcher>> all;
  for (int w = 0; w < watchers; ++w) {
    // --separate: each watcher on a connection of its own, as separate client processes would be;
    // otherwise all share one connection, as one process watching many jobs (a dashboard) would.
    ttsd::v1::TrainingService::Stub* watcher_stub = stub.get();
    if (separate) {
      grpc::ChannelArguments args;
      args.SetInt("ttsd.bench.watcher", w);  // distinct args: gRPC does not share the connection
      stubs.push_back(
          ttsd::v1::TrainingService::NewStub(grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args)));
      watcher_stub = stubs.back().get();
    }
    all.push_back(std::make_unique<Watcher>(watcher_stub, job, [&](const std::vector<double>& mine) {
      std::lock_guard<std::mutex> lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      if (--open == 0) cv.notify_all();
    }));
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open == 0; });
  }
  std::printf("{\"watchers\": %d, \"connections\": \"%s\", \"events\": %zu, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
              "\"max_ms\": %.3f}\n",
              watchers, separate ? "separate" : "shared", latencies_ms.size(), Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.9),
              Percentile(latencies_ms, 0.99), Percentile(latencies_ms, 1.0));
  return 0;
}
