// A real `ttsd serve` for tests: its own data dir and unix socket, started as a child process, plus a
// gRPC stub to talk to it. Everything a test needs to drive jobs and wait for states.
#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ttsd/v1/ttsd.grpc.pb.h"

namespace ttsd::testing {

// A TCP port on 127.0.0.1 that nothing listened on a moment ago (bound to port 0, then released).
int FreeTcpPort();

class TestDaemon {
 public:
  // `binary`: the ttsd executable; `data_dir` is created; `extra` are more `ttsd serve` flags.
  TestDaemon(std::string binary, std::string data_dir, std::vector<std::string> extra = {});
  ~TestDaemon();  // SIGKILLs a daemon still running

  // Starts the daemon and (with `wait`) waits up to 60 s until it answers plaintext gRPC health checks.
  // False if it exited or never answered.
  bool Start(bool wait = true);
  void Kill(int sig);  // signal the daemon and wait for it to exit
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // The address ttsctl takes: --listen from `extra`, else the data dir's socket.
  std::string addr() const;
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const;  // what the daemon printed

  ttsd::v1::TrainingService::Stub& stub() { return *stub_; }
  ttsd::v1::Job GetJob(uint64_t id);  // fails the test on error
  // Polls GetJob until `pred` holds (true) or `timeout_s` passes (false).
  bool WaitFor(uint64_t id, const std::function<bool(const ttsd::v1::Job&)>& pred, double timeout_s,
               ttsd::v1::Job* last = nullptr);
  bool WaitForState(uint64_t id, ttsd::v1::JobState state, double timeout_s, ttsd::v1::Job* last = nullptr);
  // Submits a config file's text; returns the status and fills *job.
  grpc::Status Submit(const std::string& config_path, ttsd::v1::Job* job, const std::string& request_id = "");
  // Every event of a (finished) job by WatchJob without follow, after `after_seq`.
  std::vector<ttsd::v1::JobEvent> Events(uint64_t id, uint64_t after_seq = 0, bool follow = false);

 private:
  std::string binary_, data_dir_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ttsd::v1::TrainingService::Stub> stub_;
};

}  // namespace ttsd::testing
