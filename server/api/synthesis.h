// The Synthesize RPC's work: a job's checkpoint speaks a text in a child process (`ttsd synthesize`,
// its own process group), so loading a model and running Griffin-Lim never occupy the daemon's threads
// and a crash in them cannot take the daemon down. Each request runs on a thread of its own that waits
// for its child; at most kMaxConcurrent at once (RESOURCE_EXHAUSTED beyond), each at most kTimeout.
#pragma once

#include <grpcpp/grpcpp.h>

#include <sys/types.h>

#include <functional>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/store/store.h"
#include "ttsd/v1/ttsd.pb.h"

namespace ttsd::server::api {

class Synthesis {
 public:
  static constexpr int kMaxConcurrent = 2;
  static constexpr size_t kMaxTextBytes = 2000;

  explicit Synthesis(std::string ttsd_binary) : ttsd_binary_(std::move(ttsd_binary)) {}
  ~Synthesis() { Stop(); }

  // Kills the children still speaking and waits until their requests have finished (with an error):
  // call before the gRPC server shuts down, so no reply outlives it.
  void Stop();

  // Checks the request, then speaks on another thread and calls `done` there (with *resp filled on OK).
  void Start(const store::JobRecord& job, const ttsd::v1::SynthesizeRequest& req, ttsd::v1::SynthesizeResponse* resp,
             std::function<void(const grpc::Status&)> done);

 private:
  grpc::Status Run(const store::JobRecord& job, const ttsd::v1::SynthesizeRequest& req,
                   ttsd::v1::SynthesizeResponse* resp);

  const std::string ttsd_binary_;
  absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::set<pid_t> children_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ttsd::server::api
