// The scheduler's devices: `ttsd serve --devices cpu` or `--devices cuda:0,cuda:1,...`, and
// `--max-concurrent-jobs`. A CUDA device runs one job at a time; the CPU is shared by up to
// max-concurrent-jobs jobs. A job asks for N devices and starts only when N are free at once; on the
// CPU its N data-parallel ranks share the CPU as one job.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::server::daemon {

// "cpu" or a comma-separated list of "cuda:N" (no repeats).
absl::StatusOr<std::vector<std::string>> ParseDeviceList(const std::string& flag);

class DeviceSlots {
 public:
  DeviceSlots(std::vector<std::string> devices, int max_concurrent_jobs);

  // The devices a job wanting `n` gets now (one per rank: n times "cpu" on the CPU), or nullopt when
  // they are not free (or jobs are at the cap).
  std::optional<std::vector<std::string>> Acquire(int n);
  void Release(const std::vector<std::string>& devices);
  // Whether no job at all could start now (jobs at the cap, or every device busy): the scheduler then
  // need not read the queue.
  bool Full() const;
  // Whether a job wanting `n` could ever run here.
  bool CanEverFit(int n) const;
  std::string Describe() const;  // "cpu (2 concurrent jobs)", "cuda:0, cuda:1"

 private:
  std::vector<std::string> devices_;
  std::vector<int> users_;  // jobs on each device
  int max_jobs_;
  int running_ = 0;
};

}  // namespace ttsd::server::daemon
