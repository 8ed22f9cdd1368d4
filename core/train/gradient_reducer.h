// Data parallelism's gradient averaging, overlapped with the backward pass as PyTorch's
// DistributedDataParallel does it. The trained parameters are packed into flat buckets in reverse
// registration order (roughly the order backward produces their gradients). A hook on each parameter
// copies its gradient into its bucket the moment autograd has it; a bucket whose gradients are all in
// is all-reduced in the background while backward goes on. Buckets are sent strictly in order, so every
// rank starts the same collectives in the same sequence whatever order its own backward took.
//
// Each bucket also carries one "used" flag per parameter: a parameter that got no gradient on a rank
// this step travels as zeros, and one that got none on any rank keeps no gradient, as in one process.
// Includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "core/train/distributed.h"

namespace ttsd::core::train {

class GradientReducer {
 public:
  // `params`: those that do not require a gradient are left out. The first bucket is kept small (1 MB
  // at most) so the first all-reduce starts early; the others hold about `bucket_bytes`.
  GradientReducer(Collectives* group, const std::vector<torch::Tensor>& params, int64_t bucket_bytes = int64_t{25} << 20);
  ~GradientReducer();  // removes the hooks
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // After backward: sends the buckets backward left incomplete, waits for every one, and sets each
  // parameter's gradient to its mean over the ranks. Then ready for the next backward. An error (a rank
  // died or timed out) is UNAVAILABLE.
  absl::Status Finish();

  int buckets() const { return static_cast<int>(buckets_.size()); }
  // Of the last Finish()ed step: how many buckets were on their way before backward returned.
  int sent_during_backward() const { return sent_during_backward_; }

 private:
  struct Slot {
    torch::Tensor param;
    int bucket = 0;
    int64_t offset = 0, numel = 0;  // in the bucket's flat tensor
    int64_t flag = 0;               // the index of its "used" flag there
    bool got = false;
    unsigned hook = 0;
  };
  struct Bucket {
    torch::Tensor flat;  // gradients, then one flag per parameter
    int first_slot = 0, size = 0;  // its parameters: slots_[first_slot, first_slot + size)
    int pending = 0;               // of them, without a gradient yet this step
    std::unique_ptr<PendingSum> sum;  // set once sent
  };

  void OnGradient(int slot, const torch::Tensor& grad);  // a parameter's hook
  void SendReady();                                      // the complete buckets next in order
  void Send(Bucket& b);
  void Reset();

  Collectives* group_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::mutex mu_;  // hooks may run on autograd's device threads
  size_t next_ = 0;  // the first bucket not yet sent
  absl::Status failure_;
  int sent_during_backward_ = 0;
};

}  // namespace ttsd::core::train
