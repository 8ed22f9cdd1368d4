// A file written by PyTorch's torch.save (1.6 and later: a ZIP of data.pkl plus one record per tensor
// storage), read natively: the pickle becomes PyValues (pickle.h) and tensors are materialised from
// their records on request. Used by `ttsd import` to read Piper, Coqui and VITS checkpoints; no Python.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/interop/pickle.h"
#include "core/interop/zip_reader.h"

namespace ttsd::core::interop {

class TorchCheckpoint {
 public:
  // Clear errors for: a missing file, a legacy (pre-1.6) or TorchScript file, a truncated or damaged
  // archive, a pickle that cannot be read.
  static absl::StatusOr<std::unique_ptr<TorchCheckpoint>> Open(const std::string& path);

  const PyValue& root() const { return *root_; }
  const std::string& path() const { return zip_->path(); }

  // A kTensor value as a contiguous CPU tensor of its own dtype. DATA_LOSS when its record is missing
  // or shorter than the tensor needs.
  absl::StatusOr<torch::Tensor> Materialize(const PyValue& tensor);

  // Every tensor of a (nested) dict, by dotted name ("enc_p.emb.weight"); non-tensor values skipped.
  absl::StatusOr<std::map<std::string, torch::Tensor>> Tensors(const PyValue& dict, const std::string& prefix = "");

 private:
  TorchCheckpoint() = default;
  std::unique_ptr<ZipReader> zip_;
  std::string prefix_;  // the archive's top folder, "archive/" or the saved file's stem
  PyRef root_;
  std::map<std::string, torch::Tensor> storages_;  // record key -> its bytes, shared by the views on it
};

}  // namespace ttsd::core::interop
