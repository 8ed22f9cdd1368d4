#include "core/train/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <exception>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ttsd::core::train {
namespace {

// c10d reports failures (a peer gone, a timeout) as exceptions; the engine reports Status.
template <class F>
absl::Status Guarded(const DistributedEnv& env, const char* what, F&& body) {
  try {
    body();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("rank ", env.rank, " of ", env.world_size, ": ", what, " failed: ",
                                               e.what()));
  }
}

absl::Status ReadInt(const std::function<const char*(const char*)>& getenv, const char* name, int* out) {
  const char* v = getenv(name);
  if (v == nullptr) return absl::OkStatus();
  if (!absl::SimpleAtoi(v, out)) return absl::InvalidArgumentError(absl::StrCat(name, "=", v, " is not a number"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DistributedEnv> ReadDistributedEnv(const std::function<const char*(const char*)>& getenv) {
  DistributedEnv env;
  // torchrun's names first; Slurm's when a job step launched the ranks (srun) and set no torchrun names.
  const bool torchrun = getenv("WORLD_SIZE") != nullptr || getenv("RANK") != nullptr;
  const bool slurm = !torchrun && getenv("SLURM_NTASKS") != nullptr && getenv("SLURM_PROCID") != nullptr;
  const char* rank_var = slurm ? "SLURM_PROCID" : "RANK";
  const char* world_var = slurm ? "SLURM_NTASKS" : "WORLD_SIZE";
  const char* local_var = slurm ? "SLURM_LOCALID" : "LOCAL_RANK";
  if (!torchrun && !slurm) return env;
  if (getenv(world_var) == nullptr || getenv(rank_var) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("distributed launch: ", rank_var, " and ", world_var,
                                                   " must be set together"));
  }
  if (auto st = ReadInt(getenv, world_var, &env.world_size); !st.ok()) return st;
  if (auto st = ReadInt(getenv, rank_var, &env.rank); !st.ok()) return st;
  if (auto st = ReadInt(getenv, local_var, &env.local_rank); !st.ok()) return st;
  if (auto st = ReadInt(getenv, "MASTER_PORT", &env.master_port); !st.ok()) return st;
  if (const char* addr = getenv("MASTER_ADDR")) env.master_addr = addr;
  if (env.world_size < 1) return absl::InvalidArgumentError(absl::StrCat(world_var, " must be >= 1"));
  if (env.rank < 0 || env.rank >= env.world_size) {
    return absl::InvalidArgumentError(absl::StrCat(rank_var, "=", env.rank, " is outside 0..", env.world_size - 1));
  }
  if (env.local_rank < 0) return absl::InvalidArgumentError(absl::StrCat(local_var, " must be >= 0"));
  if (env.master_port < 1 || env.master_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("MASTER_PORT=", env.master_port, " is not a TCP port"));
  }
  if (const char* agent = getenv("TORCHELASTIC_USE_AGENT_STORE")) env.launcher_serves_store = std::string(agent) == "True";
  if (auto st = ReadInt(getenv, "TORCHELASTIC_RESTART_COUNT", &env.launcher_restart); !st.ok()) return st;
  if (env.world_size > 1 && getenv("MASTER_ADDR") == nullptr) {
    return absl::InvalidArgumentError("distributed launch: MASTER_ADDR (rank 0's host) is not set");
  }
  return env;
}

struct Collectives::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

Collectives::Collectives(DistributedEnv env, std::unique_ptr<Impl> impl) : env_(std::move(env)), impl_(std::move(impl)) {}
Collectives::~Collectives() = default;

absl::StatusOr<std::unique_ptr<Collectives>> Collectives::Join(const DistributedEnv& env, const std::string& backend,
                                                               std::chrono::milliseconds timeout) {
  if (backend == "nccl") {
    return absl::UnimplementedError(
        "distributed.backend: nccl needs a CUDA build of LibTorch with NCCL; this ttsd uses gloo (set backend: "
        "gloo or auto)");
  }
  auto impl = std::make_unique<Impl>();
  auto st = Guarded(env, "joining the process group", [&] {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(env.master_port);
    o.isServer = env.rank == 0 && !env.launcher_serves_store;
    o.numWorkers = static_cast<size_t>(env.world_size);
    o.waitWorkers = !env.launcher_serves_store;
    o.timeout = timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    if (env.launcher_serves_store) {
      impl->store = c10::make_intrusive<c10d::PrefixStore>(absl::StrCat("/worker/attempt_", env.launcher_restart),
                                                           impl->store);
    }
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // GLOO_SOCKET_IFNAME picks the interface, as in PyTorch; a loopback master means one machine.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost") {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 2;
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, env.rank, env.world_size, options);
  });
  if (!st.ok()) return st;
  return std::unique_ptr<Collectives>(new Collectives(env, std::move(impl)));
}

absl::Status Collectives::Broadcast(const std::vector<torch::Tensor>& tensors) {
  return Guarded(env_, "broadcasting the parameters", [&] {
    torch::NoGradGuard no_grad;
    for (const auto& t : tensors) {
      std::vector<at::Tensor> one = {t.detach()};
      impl_->group->broadcast(one)->wait();
    }
  });
}

absl::Status Collectives::SumInPlace(torch::Tensor& values) {
  return Guarded(env_, "all-reduce", [&] {
    std::vector<at::Tensor> one = {values};
    impl_->group->allreduce(one)->wait();
  });
}

absl::Status Collectives::Barrier() {
  return Guarded(env_, "barrier", [&] { impl_->group->barrier()->wait(); });
}

absl::Status Collectives::AverageGradients(const std::vector<torch::Tensor>& params, int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> trained;
  for (const auto& p : params) {
    if (p.requires_grad()) trained.push_back(p);
  }
  if (trained.empty()) return absl::OkStatus();
  // Which parameters got a gradient on some rank: those travel (zeros where a rank has none); one
  // unused everywhere keeps no gradient, as in a single process.
  torch::Tensor has = torch::empty({static_cast<int64_t>(trained.size())}, torch::kInt32);
  int32_t* used = has.data_ptr<int32_t>();  // plain element access: hundreds of parameters every step
  for (size_t i = 0; i < trained.size(); ++i) used[i] = trained[i].grad().defined() ? 1 : 0;
  if (auto st = SumInPlace(has); !st.ok()) return st;
  std::vector<torch::Tensor> grads;
  for (size_t i = 0; i < trained.size(); ++i) {
    if (used[i] == 0) continue;
    auto& p = trained[i];
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  const double scale = 1.0 / env_.world_size;
  size_t begin = 0;
  while (begin < grads.size()) {
    // One bucket: consecutive gradients of one dtype and device, up to bucket_bytes.
    size_t end = begin;
    int64_t bytes = 0;
    while (end < grads.size() && grads[end].scalar_type() == grads[begin].scalar_type() &&
           grads[end].device() == grads[begin].device() && (end == begin || bytes + static_cast<int64_t>(grads[end].nbytes()) <= bucket_bytes)) {
      bytes += static_cast<int64_t>(grads[end].nbytes());
      ++end;
    }
    std::vector<torch::Tensor> parts;
    for (size_t i = begin; i < end; ++i) parts.push_back(grads[i].reshape({-1}));
    torch::Tensor flat = torch::cat(parts);
    if (auto st = SumInPlace(flat); !st.ok()) return st;
    flat.mul_(scale);
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      const int64_t n = grads[i].numel();
      grads[i].copy_(flat.narrow(0, offset, n).view_as(grads[i]));
      offset += n;
    }
    begin = end;
  }
  return absl::OkStatus();
}

}  // namespace ttsd::core::train
