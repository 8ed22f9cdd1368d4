#include "core/train/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <thread>
#include <utility>

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

// The process group: Gloo, or NCCL where this LibTorch was built with it (an official CUDA build
// defines USE_C10D_NCCL). Both classes have the same collective methods returning the same Work type, so
// each call goes to whichever this rank joined.
struct Collectives::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#ifdef USE_C10D_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  torch::Device device = torch::kCPU;  // NCCL: this rank's GPU, which host tensors pass through

  template <class F>
  auto Call(F&& f) {
#ifdef USE_C10D_NCCL
    if (nccl) return f(*nccl);
#endif
    return f(*gloo);
  }
  // NCCL reduces only GPU tensors: a host tensor travels as a copy on the rank's device.
  torch::Tensor Staged(const torch::Tensor& t) const {
    return device.is_cuda() && !t.is_cuda() ? t.to(device) : t;
  }
};

bool Collectives::NcclAvailable() {
#ifdef USE_C10D_NCCL
  return true;
#else
  return false;
#endif
}

Collectives::Collectives(DistributedEnv env, std::unique_ptr<Impl> impl) : env_(std::move(env)), impl_(std::move(impl)) {}
Collectives::~Collectives() = default;

absl::StatusOr<std::unique_ptr<Collectives>> Collectives::Join(const DistributedEnv& env, const std::string& backend,
                                                               std::chrono::milliseconds timeout, torch::Device device) {
  if (backend == "nccl" && !NcclAvailable()) {
    return absl::UnimplementedError(
        "distributed.backend: nccl needs a CUDA build of LibTorch with NCCL; this ttsd uses gloo (set backend: "
        "gloo or auto)");
  }
  if (backend == "nccl" && !device.is_cuda()) {
    return absl::InvalidArgumentError("distributed.backend: nccl reduces GPU tensors; this rank trains on the CPU");
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
#ifdef USE_C10D_NCCL
    if (backend == "nccl") {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      impl->device = device;
      impl->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, env.rank, env.world_size, options);
      return;
    }
#endif
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
    impl->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, env.rank, env.world_size, options);
  });
  if (!st.ok()) return st;
  return std::unique_ptr<Collectives>(new Collectives(env, std::move(impl)));
}

const char* Collectives::backend() const {
#ifdef USE_C10D_NCCL
  if (impl_->nccl) return "nccl";
#endif
  return "gloo";
}

absl::Status Collectives::Broadcast(const std::vector<torch::Tensor>& tensors) {
  return Guarded(env_, "broadcasting the parameters", [&] {
    torch::NoGradGuard no_grad;
    for (const auto& t : tensors) {
      torch::Tensor plain = t.detach();
      std::vector<at::Tensor> one = {impl_->Staged(plain)};
      impl_->Call([&](auto& group) { return group.broadcast(one); })->wait();
      if (!one[0].is_same(plain)) plain.copy_(one[0]);
    }
  });
}

absl::Status Collectives::SumInPlace(torch::Tensor& values) {
  return Guarded(env_, "all-reduce", [&] {
    std::vector<at::Tensor> one = {impl_->Staged(values)};
    impl_->Call([&](auto& group) { return group.allreduce(one); })->wait();
    if (!one[0].is_same(values)) values.copy_(one[0]);
  });
}

absl::Status Collectives::Barrier() {
  return Guarded(env_, "barrier", [&] {
    c10d::BarrierOptions options;
    if (impl_->device.is_cuda()) options.device_ids = {impl_->device.index()};
    impl_->Call([&](auto& group) { return group.barrier(options); })->wait();
  });
}

absl::Status Collectives::WaitForAll(std::chrono::seconds patience) {
  const std::string key = absl::StrCat("ttsd/arrived/", ++waits_);
  return Guarded(env_, "waiting for every rank", [&] {
    impl_->store->add(key, 1);
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (impl_->store->add(key, 0) < env_.world_size) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error(absl::StrCat("not every rank arrived within ", patience.count(), " s"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
}

struct PendingSum::Work {
  decltype(std::declval<c10d::ProcessGroupGloo&>().allreduce(std::declval<std::vector<at::Tensor>&>())) work;
  torch::Tensor staged, target;  // NCCL with a host tensor: the GPU copy, copied back into target
};

PendingSum::PendingSum(int rank, int world, std::unique_ptr<Work> work) : rank_(rank), world_(world), work_(std::move(work)) {}
PendingSum::~PendingSum() = default;

absl::Status PendingSum::Wait() {
  DistributedEnv env;
  env.rank = rank_;
  env.world_size = world_;
  return Guarded(env, "all-reduce", [&] {
    work_->work->wait();
    if (!work_->staged.is_same(work_->target)) work_->target.copy_(work_->staged);
  });
}

absl::StatusOr<std::unique_ptr<PendingSum>> Collectives::StartSum(torch::Tensor values) {
  auto work = std::make_unique<PendingSum::Work>();
  auto st = Guarded(env_, "all-reduce", [&] {
    work->target = values;
    work->staged = impl_->Staged(values);
    std::vector<at::Tensor> one = {work->staged};
    work->work = impl_->Call([&](auto& group) { return group.allreduce(one); });
  });
  if (!st.ok()) return st;
  return std::unique_ptr<PendingSum>(new PendingSum(env_.rank, env_.world_size, std::move(work)));
}

}  // namespace ttsd::core::train
