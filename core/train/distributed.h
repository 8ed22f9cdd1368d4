// Data-parallel training across processes ("ranks") on PyTorch's own c10d: a TCPStore rendezvous and
// a ProcessGroupGloo. Ranks find each other through the torchrun environment contract (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK), or Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID), so
// `ttsd train` runs under torchrun-style launchers, `srun`, and the daemon alike.
// Includes LibTorch; the c10d headers stay in distributed.cc.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ttsd::core::train {

struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // rank on this node: picks the node's device (cuda:<local_rank>)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // torchrun with static rendezvous (--nnodes N --node-rank K --master-addr/--master-port) serves the
  // store itself at MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE=True): every rank then connects to it, and
  // keys are kept apart per launcher restart (TORCHELASTIC_RESTART_COUNT), as PyTorch's own init does.
  bool launcher_serves_store = false;
  int launcher_restart = 0;
  bool active() const { return world_size > 1; }
};

// The launcher's variables; none set means one process. A partial or inconsistent set (RANK without
// WORLD_SIZE, RANK >= WORLD_SIZE, a port out of range) is an error naming the variable. `getenv` is
// replaceable for tests.
absl::StatusOr<DistributedEnv> ReadDistributedEnv(
    const std::function<const char*(const char*)>& getenv = [](const char* k) { return std::getenv(k); });

// An all-reduce in flight (Collectives::StartSum).
class PendingSum {
 public:
  ~PendingSum();
  // Blocks until the sum is in the tensor (or the collective failed: a rank died or timed out).
  absl::Status Wait();

 private:
  friend class Collectives;
  struct Work;
  PendingSum(int rank, int world, std::unique_ptr<Work> work);
  int rank_, world_;
  std::unique_ptr<Work> work_;
};

class Collectives {
 public:
  // Joins the group: blocks until all world_size ranks have reached the store at
  // MASTER_ADDR:MASTER_PORT (rank 0 serves it), or `timeout` passes. `timeout` also bounds every later
  // collective, so a rank that died cannot hang the others. backend: "gloo", or "nccl" on a CUDA build
  // of LibTorch with NCCL (`device` is then this rank's GPU; other builds refuse it, saying so).
  static absl::StatusOr<std::unique_ptr<Collectives>> Join(const DistributedEnv& env, const std::string& backend,
                                                           std::chrono::milliseconds timeout,
                                                           torch::Device device = torch::kCPU);
  // Whether this LibTorch was built with NCCL (an official CUDA build).
  static bool NcclAvailable();
  ~Collectives();
  Collectives(const Collectives&) = delete;
  Collectives& operator=(const Collectives&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  const char* backend() const;  // "gloo" or "nccl"

  // Rank 0's values copied into every rank's tensors (parameters and buffers, at the start).
  absl::Status Broadcast(const std::vector<torch::Tensor>& tensors);
  // `values` (any shape, float or int) summed over the ranks, in place.
  absl::Status SumInPlace(torch::Tensor& values);
  // The same, started in the background (the process group's threads or stream): returns at once. Every rank must start the
  // same sums in the same order.
  absl::StatusOr<std::unique_ptr<PendingSum>> StartSum(torch::Tensor values);
  absl::Status Barrier();
  // A barrier for after long per-rank work (longer than the collective timeout allows): each rank
  // checks in at the rendezvous store and waits, up to `patience`, until every rank has. A rank whose
  // process died ends the wait at once if it was rank 0 (the store's host); the launcher (the daemon,
  // torchrun) ends the group when any other rank dies.
  absl::Status WaitForAll(std::chrono::seconds patience);

 private:
  struct Impl;
  Collectives(DistributedEnv env, std::unique_ptr<Impl> impl);
  DistributedEnv env_;
  std::unique_ptr<Impl> impl_;
  int waits_ = 0;  // WaitForAll calls so far: each uses a key of its own
};

}  // namespace ttsd::core::train
