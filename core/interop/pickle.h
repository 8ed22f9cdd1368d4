// A Python pickle reader (protocols 0-5, the opcodes torch.save and its callers emit) that builds plain
// values and never runs code. Classes it does not know (pathlib.PosixPath, Lightning's AttributeDict,
// numpy scalars, argparse.Namespace, ...) become opaque `kObject` values that keep their class name,
// arguments, state and dict items, so a checkpoint that pickled them still loads. Tensors are
// recognised from torch's rebuild functions and come back as descriptors (dtype, storage record, offset,
// sizes, strides); torch_checkpoint.h turns them into LibTorch tensors. No LibTorch here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::core::interop {

struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kList, kTuple, kDict, kGlobal, kObject, kStorage, kTensor };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;  // kString, kBytes; kGlobal: "module.name"; kStorage: the record key
  std::vector<PyRef> items;                       // kList, kTuple; kObject: its appended items
  std::vector<std::pair<PyRef, PyRef>> entries;   // kDict (insertion order); kObject: its set items
  PyRef klass, args, state;                       // kObject: its class (a kGlobal), arguments, BUILD state
  // kStorage: dtype (torch's scalar type name: "float32", "float16", "bfloat16", "int64", ...), location.
  // kTensor: `storage` plus offset (elements), sizes and strides.
  std::string dtype, location;
  PyRef storage;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;

  PyValue() = default;
  PyValue(const PyValue&) = delete;
  PyValue& operator=(const PyValue&) = delete;
  ~PyValue();  // iterative, so a hostile file's deeply nested values cannot exhaust the stack

  bool IsDictLike() const { return kind == Kind::kDict || (kind == Kind::kObject && !entries.empty()); }
  // The value under string key `key` of a dict (or a dict-like object); null when absent.
  const PyValue* Get(std::string_view key) const;
  // A short description for messages: "a dict of 12 entries", "a str", "object pathlib.PosixPath".
  std::string Describe() const;
};

// Parses one pickle. INVALID_ARGUMENT names the opcode and offset where the stream went wrong.
absl::StatusOr<PyRef> ParsePickle(std::string_view data);

// The dtype name of a torch storage class ("FloatStorage" -> "float32"); "" when unknown.
std::string DtypeOfStorageClass(std::string_view class_name);
// Bytes per element of a dtype name; 0 when unknown.
int ElementSize(std::string_view dtype);

}  // namespace ttsd::core::interop
