// Piper's training checkpoints: a Lightning .ckpt whose state_dict holds model_g.* (the generator, the
// authors' VITS layout) and model_d.* (the discriminators), whose hyper_parameters give the
// architecture, and the voice's config.json (phoneme_id_map, sample rate, espeak voice, speakers).
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/common/status.h"
#include "core/interop/import_source.h"
#include "core/interop/torch_checkpoint.h"
#include "core/text/utf8.h"

namespace ttsd::core::interop {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Piper writes config.json into the training folder, above lightning_logs/version_N/checkpoints/.
std::string FindPiperConfig(const std::string& ckpt) {
  fs::path dir = fs::absolute(ckpt).parent_path();
  for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (fs::exists(dir / "config.json")) return (dir / "config.json").string();
  }
  return "";
}

// phoneme_id_map as a ttsd symbol table of `size` ids. Ids no phoneme uses get private-use code points,
// so the table keeps every id at its place without inventing symbols that text can produce.
absl::StatusOr<SymbolTable> PiperSymbols(const json& map, int64_t size, std::vector<std::string>* notes) {
  std::vector<std::string> symbols(static_cast<size_t>(size));
  for (const auto& [phoneme, ids] : map.items()) {
    if (!ids.is_array() || ids.empty() || !ids[0].is_number_integer()) continue;
    if (ids.size() > 1) notes->push_back(absl::StrCat("phoneme '", phoneme, "' maps to ", ids.size(), " ids; its first is kept"));
    const int64_t id = ids[0].get<int64_t>();
    if (id < 0 || id >= size) {
      return absl::FailedPreconditionError(absl::StrCat("phoneme_id_map gives '", phoneme, "' id ", id,
                                                        " but the model's embedding has ", size, " rows"));
    }
    std::vector<std::string> cps;
    if (!SplitUtf8(phoneme, &cps) || cps.size() != 1) {
      notes->push_back(absl::StrCat("phoneme '", phoneme, "' (id ", id, ") is several code points (Piper's merged "
                                    "vowel clusters are); the id is kept but ttsd's text cannot produce it"));
      continue;
    }
    auto& slot = symbols[static_cast<size_t>(id)];
    if (!slot.empty()) {
      notes->push_back(absl::StrCat("phonemes '", slot, "' and '", phoneme, "' share id ", id, "; the first is kept"));
      continue;
    }
    slot = phoneme;
  }
  int unused = 0;
  for (size_t id = 0; id < symbols.size(); ++id) {
    if (symbols[id].empty()) {
      symbols[id] = UnreachableSymbol(static_cast<int>(id));
      ++unused;
    }
  }
  if (symbols[0] != "_") {
    return absl::FailedPreconditionError(absl::StrCat("id 0 of phoneme_id_map is '", symbols[0],
                                                      "', not the pad '_' that ttsd's tables start with"));
  }
  if (unused > 0) notes->push_back(absl::StrCat(unused, " embedding rows that no phoneme uses are kept, unreachable"));
  return SymbolTable::FromList(std::move(symbols));
}

}  // namespace

absl::StatusOr<Source> ReadPiperSource(const ImportOptions& o) {
  TTSD_ASSIGN_OR_RETURN(auto ckpt, TorchCheckpoint::Open(o.source));
  Source s;
  s.format = "piper";
  const PyValue& root = ckpt->root();
  const PyValue* state = root.IsDictLike() ? root.Get("state_dict") : nullptr;
  if (state == nullptr || !state->IsDictLike()) {
    if (root.IsDictLike() && root.Get("model") != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          o.source, ": has 'model' but no Lightning 'state_dict': an original VITS (G_*.pth) or Coqui checkpoint, "
                    "not Piper's; use `ttsd import vits` or `ttsd import coqui`"));
    }
    return absl::InvalidArgumentError(absl::StrCat(o.source, ": no 'state_dict': not a Piper (Lightning) checkpoint"));
  }
  TTSD_ASSIGN_OR_RETURN(auto flat, ckpt->Tensors(*state));
  std::map<std::string, torch::Tensor> g, d;
  for (auto& [name, t] : flat) {
    if (absl::StartsWith(name, "model_g.")) {
      g[name.substr(8)] = t;
    } else if (absl::StartsWith(name, "model_d.")) {
      d[name.substr(8)] = t;
    } else {
      s.unused.push_back(absl::StrCat(name, " ", ShapeText(t.sizes().vec())));
    }
  }
  if (g.empty()) return absl::InvalidArgumentError(absl::StrCat(o.source, ": no model_g.* tensors: not a Piper VITS checkpoint"));
  TTSD_ASSIGN_OR_RETURN(s.generator, GroupWeightNorm(g));
  TTSD_ASSIGN_OR_RETURN(s.discriminator, GroupWeightNorm(d));
  if (const PyValue* hp = root.Get("hyper_parameters")) s.hparams = ToJson(*hp);
  if (const PyValue* step = root.Get("global_step"); step && step->kind == PyValue::Kind::kInt) s.step = step->integer;

  const std::string config = o.config.empty() ? FindPiperConfig(o.source) : o.config;
  if (config.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        o.source, ": Piper's voice config (config.json, with phoneme_id_map and the sample rate) is not beside it or "
                  "in a folder above; pass --config <training folder>/config.json or <voice>.onnx.json"));
  }
  TTSD_ASSIGN_OR_RETURN(json voice, ReadJsonFile(config));
  if (!voice.contains("phoneme_id_map") || !voice["phoneme_id_map"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(config, ": no phoneme_id_map: not a Piper voice config"));
  }
  TTSD_ASSIGN_OR_RETURN(s.symbols, PiperSymbols(voice["phoneme_id_map"], SymbolRows(s), &s.notes));
  if (voice.contains("audio") && voice["audio"].contains("sample_rate")) {
    s.hparams["sample_rate"] = voice["audio"]["sample_rate"];
  }
  if (voice.contains("espeak") && voice["espeak"].contains("voice") && voice["espeak"]["voice"].is_string()) {
    s.language = voice["espeak"]["voice"].get<std::string>();
  }
  if (voice.contains("inference") && voice["inference"].is_object()) s.inference = voice["inference"];
  auto it = s.generator.find("emb_g.weight");
  const int64_t n_speakers = it == s.generator.end() ? 1 : it->second.Shape()[0];
  if (n_speakers > 1) {
    s.speakers.assign(static_cast<size_t>(n_speakers), "");
    if (voice.contains("speaker_id_map") && voice["speaker_id_map"].is_object()) {
      for (const auto& [name, id] : voice["speaker_id_map"].items()) {
        if (id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < n_speakers) {
          s.speakers[id.get<size_t>()] = name;
        }
      }
    }
    for (size_t i = 0; i < s.speakers.size(); ++i) {
      if (s.speakers[i].empty()) s.speakers[i] = absl::StrCat("speaker_", i);
    }
  }
  return s;
}

}  // namespace ttsd::core::interop
