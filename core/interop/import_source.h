// What `ttsd import` reads from another tool's voice before it builds a ttsd model: the tensors (grouped
// into weight-norm pairs), the architecture the source's own config states, the symbol table, the
// speakers and the text and inference settings. One reader per source format (piper_source.cc,
// vits_source.cc, coqui_source.cc); vits_import.cc turns a Source into a ttsd checkpoint.
#pragma once

#include <torch/torch.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/interop/pickle.h"
#include "core/interop/vits_import.h"
#include "core/text/symbols.h"

namespace ttsd::core::interop {

// One source parameter: a plain tensor, or a weight-norm pair (g, v) normalised over every dim but 0,
// as torch.nn.utils.weight_norm and its parametrizations version both store it by default.
struct SourceTensor {
  torch::Tensor plain, g, v;
  bool WeightNorm() const { return g.defined(); }
  torch::Tensor Folded() const { return WeightNorm() ? torch::_weight_norm(v, g, 0) : plain; }
  std::vector<int64_t> Shape() const { return WeightNorm() ? v.sizes().vec() : plain.sizes().vec(); }
};
using SourceTensors = std::map<std::string, SourceTensor>;  // by base name ("dec.ups.0.weight")

struct Source {
  std::string format;                      // piper | vits | coqui
  SourceTensors generator, discriminator;  // the authors' module names, without Piper's model_g. / model_d.
  std::vector<std::string> unused;         // tensors of other networks (Piper's model_mrd, ...), with shapes
  // The architecture in Piper's hyper-parameter names (upsample_rates, resblock_dilation_sizes,
  // sample_rate, filter_length, hop_length, win_length, mel_channels, mel_fmin, mel_fmax, segment_size,
  // p_dropout, and ttsd's dp_norm_eps); what the tensors' shapes say wins over it.
  nlohmann::json hparams = nlohmann::json::object();
  std::optional<SymbolTable> symbols;
  std::vector<std::string> speakers;       // by id; empty for a single-speaker voice
  std::string language = "en-us";          // the espeak-ng voice its phonemes came from
  bool add_blank = true;
  nlohmann::json inference = nlohmann::json::object();  // noise_scale, length_scale, noise_w
  int64_t step = 0;                        // the source's training step
  std::vector<std::string> notes;          // what the reader had to decide, for the report
};

absl::StatusOr<Source> ReadPiperSource(const ImportOptions& options);
absl::StatusOr<Source> ReadVitsSource(const ImportOptions& options);
absl::StatusOr<Source> ReadCoquiSource(const ImportOptions& options);

// Shared by the readers.
absl::StatusOr<SourceTensors> GroupWeightNorm(const std::map<std::string, torch::Tensor>& flat);
nlohmann::json ToJson(const PyValue& value);  // scalars, lists and dicts; other objects become null
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);
std::string ShapeText(const std::vector<int64_t>& shape);  // "[192, 1, 5]"
// A code point of Unicode's private use area (U+E000 + id) naming an id no text produces.
std::string UnreachableSymbol(int id);
// The embedding's row count, from enc_p.emb.weight (0 when absent).
int64_t SymbolRows(const Source& source);

}  // namespace ttsd::core::interop
