#include "core/train/gradient_reducer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ttsd::core::train {
namespace {

constexpr int64_t kFirstBucketBytes = int64_t{1} << 20;

}  // namespace

GradientReducer::GradientReducer(Collectives* group, const std::vector<torch::Tensor>& params, int64_t bucket_bytes)
    : group_(group) {
  std::vector<torch::Tensor> trained;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->requires_grad()) trained.push_back(*it);
  }
  // Buckets: consecutive parameters of one dtype and device, up to the byte budget.
  std::vector<std::vector<int>> members;
  int64_t bytes = 0;
  for (size_t i = 0; i < trained.size(); ++i) {
    const auto& p = trained[i];
    const int64_t budget = members.size() <= 1 ? std::min(bucket_bytes, kFirstBucketBytes) : bucket_bytes;
    const bool fits = !members.empty() && trained[members.back()[0]].scalar_type() == p.scalar_type() &&
                      trained[members.back()[0]].device() == p.device() &&
                      bytes + static_cast<int64_t>(p.nbytes()) <= budget;
    if (!fits) {
      members.emplace_back();
      bytes = 0;
    }
    members.back().push_back(static_cast<int>(i));
    bytes += static_cast<int64_t>(p.nbytes());
  }
  for (const auto& m : members) {
    Bucket b;
    b.first_slot = static_cast<int>(slots_.size());
    int64_t numel = 0;
    for (int i : m) {
      Slot s;
      s.param = trained[i];
      s.bucket = static_cast<int>(buckets_.size());
      s.offset = numel;
      s.numel = trained[i].numel();
      numel += s.numel;
      slots_.push_back(std::move(s));
    }
    b.size = static_cast<int>(m.size());
    for (int k = 0; k < b.size; ++k) slots_[b.first_slot + k].flag = numel + k;
    b.flat = torch::zeros({numel + b.size}, trained[m[0]].options().requires_grad(false));
    buckets_.push_back(std::move(b));
  }
  Reset();
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].hook = slots_[i].param.register_hook([this, i](torch::Tensor grad) {
      OnGradient(static_cast<int>(i), grad);
    });
  }
}

GradientReducer::~GradientReducer() {
  for (auto& s : slots_) s.param.remove_hook(s.hook);
}

void GradientReducer::Reset() {
  torch::NoGradGuard no_grad;
  for (auto& b : buckets_) {
    b.flat.zero_();
    b.pending = b.size;
    b.sum.reset();
  }
  for (auto& s : slots_) s.got = false;
  next_ = 0;
}

void GradientReducer::OnGradient(int slot, const torch::Tensor& grad) {
  torch::NoGradGuard no_grad;
  std::lock_guard<std::mutex> lock(mu_);
  if (!failure_.ok()) return;
  Slot& s = slots_[slot];
  Bucket& b = buckets_[s.bucket];
  if (b.sum) {  // two backward passes before one Finish(): the first's sum is already on its way
    failure_ = absl::InternalError("a gradient arrived after its bucket was sent (two backward passes in one step)");
    return;
  }
  torch::Tensor into = b.flat.narrow(0, s.offset, s.numel);
  if (s.got) {
    into.add_(grad.reshape({-1}));
    return;
  }
  into.copy_(grad.reshape({-1}));
  b.flat.narrow(0, s.flag, 1).fill_(1);
  s.got = true;
  b.pending--;
  SendReady();
}

void GradientReducer::SendReady() {
  while (next_ < buckets_.size() && buckets_[next_].pending == 0 && failure_.ok()) Send(buckets_[next_++]);
}

void GradientReducer::Send(Bucket& b) {
  auto sum = group_->StartSum(b.flat);
  if (!sum.ok()) {
    failure_ = sum.status();
    return;
  }
  b.sum = std::move(*sum);
}

absl::Status GradientReducer::Finish() {
  torch::NoGradGuard no_grad;
  std::lock_guard<std::mutex> lock(mu_);
  sent_during_backward_ = static_cast<int>(next_);
  while (next_ < buckets_.size() && failure_.ok()) Send(buckets_[next_++]);  // with zeros where no gradient came
  for (auto& b : buckets_) {
    if (b.sum && failure_.ok()) failure_ = b.sum->Wait();
  }
  if (!failure_.ok()) {
    absl::Status failed = failure_;
    failure_ = absl::OkStatus();
    Reset();
    return failed;
  }
  const double scale = 1.0 / group_->world_size();
  for (auto& b : buckets_) {
    // Summed flags: how many ranks had each gradient (plain element access: hundreds of them a step).
    torch::Tensor flags = b.flat.narrow(0, b.flat.numel() - b.size, b.size).to(torch::kCPU, torch::kFloat64);
    const double* used = flags.data_ptr<double>();
    for (int k = 0; k < b.size; ++k) {
      if (used[k] == 0) continue;  // no rank used it: no gradient, as in one process
      Slot& s = slots_[b.first_slot + k];
      torch::Tensor mean = b.flat.narrow(0, s.offset, s.numel).mul(scale).view_as(s.param);
      if (s.param.grad().defined()) {
        s.param.mutable_grad().copy_(mean);
      } else {
        s.param.mutable_grad() = mean;
      }
    }
  }
  Reset();
  return absl::OkStatus();
}

}  // namespace ttsd::core::train
