#include "core/interop/torch_checkpoint.h"

#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/common/status.h"

namespace ttsd::core::interop {
namespace {

torch::Dtype TorchDtype(const std::string& d) {
  if (d == "float32") return torch::kFloat32;
  if (d == "float64") return torch::kFloat64;
  if (d == "float16") return torch::kFloat16;
  if (d == "bfloat16") return torch::kBFloat16;
  if (d == "int64") return torch::kInt64;
  if (d == "int32") return torch::kInt32;
  if (d == "int16") return torch::kInt16;
  if (d == "int8") return torch::kInt8;
  if (d == "bool") return torch::kBool;
  return torch::kUInt8;
}

// What a file that is not a ZIP archive probably is, from its first bytes.
std::string Sniff(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char head[2] = {0, 0};
  f.read(head, 2);
  if (static_cast<unsigned char>(head[0]) == 0x80 && head[1] >= 2) {
    return " It starts like a pickle: a torch.save file from PyTorch before 1.6 (the legacy format), which is not "
           "read. Re-save it with a current PyTorch: torch.save(torch.load(f, weights_only=False), f2).";
  }
  return " It is not a PyTorch checkpoint (torch.save writes a ZIP archive).";
}

}  // namespace

absl::StatusOr<std::unique_ptr<TorchCheckpoint>> TorchCheckpoint::Open(const std::string& path) {
  std::unique_ptr<TorchCheckpoint> c(new TorchCheckpoint());
  auto zip = ZipReader::Open(path);
  if (!zip.ok()) {
    if (absl::IsInvalidArgument(zip.status())) {
      return absl::InvalidArgumentError(absl::StrCat(zip.status().message(), ".", Sniff(path)));
    }
    return zip.status();
  }
  c->zip_ = std::move(*zip);
  // torch.save puts every record under one top folder; find it by its data.pkl.
  const ZipReader::Entry* pkl = nullptr;
  for (const auto& e : c->zip_->entries()) {
    const auto slash = e.name.find('/');
    if (slash != std::string::npos && e.name.substr(slash + 1) == "data.pkl") {
      pkl = &e;
      c->prefix_ = e.name.substr(0, slash + 1);
      break;
    }
  }
  if (pkl == nullptr) {
    for (const auto& e : c->zip_->entries()) {
      if (e.name.find("constants.pkl") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": a TorchScript archive (torch.jit.save), not a training checkpoint; import the .ckpt/.pth "
                  "that training wrote"));
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": a ZIP archive without data.pkl: not a torch.save file"));
  }
  if (const auto* order = c->zip_->Find(c->prefix_ + "byteorder")) {
    TTSD_ASSIGN_OR_RETURN(std::string bo, c->zip_->Read(*order));
    if (bo != "little") return absl::UnimplementedError(absl::StrCat(path, ": saved with byte order '", bo, "'"));
  }
  TTSD_ASSIGN_OR_RETURN(std::string pickle, c->zip_->Read(*pkl));
  auto root = ParsePickle(pickle);
  if (!root.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": data.pkl: ", root.status().message()));
  c->root_ = *root;
  return c;
}

absl::StatusOr<torch::Tensor> TorchCheckpoint::Materialize(const PyValue& t) {
  if (t.kind != PyValue::Kind::kTensor || !t.storage) return absl::InvalidArgumentError("not a tensor");
  const std::string& key = t.storage->text;
  auto it = storages_.find(key);
  if (it == storages_.end()) {
    TTSD_ASSIGN_OR_RETURN(std::string bytes, zip_->Read(absl::StrCat(prefix_, "data/", key)));
    auto storage = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
    if (!bytes.empty()) std::memcpy(storage.data_ptr(), bytes.data(), bytes.size());
    it = storages_.emplace(key, storage).first;
  }
  const int elem = ElementSize(t.dtype);
  if (elem == 0) return absl::UnimplementedError(absl::StrCat("tensor dtype '", t.dtype, "' is not read"));
  const int64_t available = it->second.numel() / elem;
  // The furthest element the view touches must lie inside its storage record.
  int64_t last = t.offset;
  bool empty = false;
  for (size_t d = 0; d < t.sizes.size(); ++d) {
    if (t.sizes[d] < 0 || t.strides[d] < 0) return absl::DataLossError("a tensor with negative sizes or strides");
    if (t.sizes[d] == 0) empty = true;
    int64_t reach = 0;  // a damaged file's sizes must not overflow the arithmetic that checks them
    if (__builtin_mul_overflow(t.sizes[d] == 0 ? 0 : t.sizes[d] - 1, t.strides[d], &reach) ||
        __builtin_add_overflow(last, reach, &last)) {
      return absl::DataLossError(absl::StrCat(path(), ": a tensor's sizes and strides overflow"));
    }
  }
  if (t.offset < 0 || (!empty && last >= available)) {
    return absl::DataLossError(absl::StrCat(path(), ": storage record ", key, " holds ", available,
                                            " elements, a tensor needs element ", last));
  }
  auto typed = it->second.narrow(0, 0, available * elem).view(TorchDtype(t.dtype));
  return typed.as_strided(t.sizes, t.strides, t.offset).clone(torch::MemoryFormat::Contiguous);
}

absl::StatusOr<std::map<std::string, torch::Tensor>> TorchCheckpoint::Tensors(const PyValue& dict,
                                                                              const std::string& prefix) {
  std::map<std::string, torch::Tensor> out;
  // Iterative, and each dict once: ParsePickle refuses cycles, but a hostile file can still share one
  // dict under many keys at many levels (exponentially many paths). A shared dict is named by the first
  // path reached; state dicts share none.
  std::vector<std::pair<const PyValue*, std::string>> todo = {{&dict, prefix}};
  std::set<const PyValue*> seen;
  while (!todo.empty()) {
    auto [d, name] = todo.back();
    todo.pop_back();
    if (!seen.insert(d).second) continue;
    for (const auto& [k, v] : d->entries) {
      if (k->kind != PyValue::Kind::kString) continue;
      const std::string full = name.empty() ? k->text : absl::StrCat(name, ".", k->text);
      if (v->kind == PyValue::Kind::kTensor) {
        TTSD_ASSIGN_OR_RETURN(auto tensor, Materialize(*v));
        out[full] = tensor;
      } else if (v->IsDictLike()) {
        todo.emplace_back(v.get(), full);
      }
    }
  }
  storages_.clear();
  return out;
}

}  // namespace ttsd::core::interop
