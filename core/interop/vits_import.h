// `ttsd import`: a VITS voice trained by another tool -> one ordinary ttsd checkpoint (its .sha256 too)
// holding the generator, the discriminators where the source has them, a resolved config that rebuilds
// the source's architecture and audio settings, its symbol table and speakers, and lineage naming the
// source file and its sha256. The source is read natively (torch_checkpoint.h); the architecture is
// taken from the tensors' shapes wherever they tell it, and from the source's own config for what they
// cannot (upsample rates, dilations, audio settings).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::core::interop {

struct ImportOptions {
  std::string format;              // piper | vits (the authors' G_*.pth) | coqui
  std::string source;              // the checkpoint file
  std::string config;              // the source's JSON config (Piper: config.json / voice.onnx.json;
                                   // Coqui: optional, its checkpoint carries one)
  std::string discriminator;       // vits: the D_*.pth beside G_*.pth (optional)
  std::string out;                 // the ttsd checkpoint to write
  std::string finetune_config;     // also write a fine-tune config starting from it (optional)
};

struct ImportReport {
  std::string architecture;              // one line: what was recognised
  int mapped = 0, folded = 0, reshaped = 0;  // tensors copied, weight norm folded or re-expressed, reshaped
  std::vector<std::string> unused;       // source tensors ttsd does not use (name and shape)
  std::vector<std::string> notes;        // what is missing and what it means for a fine-tune
  std::string out, sha256;
  std::string finetune_config;           // written, when asked for
  std::string ToString() const;
};

// INVALID_ARGUMENT / FAILED_PRECONDITION name what is wrong with the source (not a checkpoint, the
// wrong --from, a tensor ttsd cannot express with its name and shape); nothing is written then.
absl::StatusOr<ImportReport> ImportVoice(const ImportOptions& options);

}  // namespace ttsd::core::interop
