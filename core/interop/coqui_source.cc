// Coqui TTS's VITS checkpoints (coqui-tts 0.28, its trainer's checkpoint_<step>.pth / best_model.pth):
// {"config": the run's config as a dict, "model": the state dict (generator and "disc."), "optimizer",
// "step", ...}. Names are translated to the authors' layout (vits_names.h); weight norm may be stored as
// weight_g/weight_v or as parametrizations.weight.original0/1. The symbol table is rebuilt from the
// config's characters section as Coqui's own character classes build it.
#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/common/status.h"
#include "core/interop/import_source.h"
#include "core/interop/torch_checkpoint.h"
#include "core/interop/vits_names.h"
#include "core/text/utf8.h"

namespace ttsd::core::interop {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}
bool Flag(const json& j, const char* key, bool fallback) {
  return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
}
std::vector<std::string> CodePoints(const std::string& s) {
  std::vector<std::string> cps;
  SplitUtf8(s, &cps);
  return cps;
}

// Coqui's vocabulary, id by id, as its character classes build it from config["characters"]:
//  - vocab_dict given: that list;
//  - VitsCharacters: pad, punctuations, characters (+ phonemes), blank;
//  - Graphemes / IPAPhonemes / BaseCharacters: pad, eos, bos, blank, characters (deduplicated and
//    sorted as configured; IPAPhonemes reads `phonemes`), then punctuations.
absl::StatusOr<std::vector<std::string>> CoquiVocab(const json& config) {
  if (!config.contains("characters") || !config["characters"].is_object()) {
    return absl::FailedPreconditionError("the Coqui config has no characters section: its symbol table is unknown");
  }
  const json& c = config["characters"];
  if (c.contains("vocab_dict") && c["vocab_dict"].is_array()) {
    std::vector<std::string> vocab;
    for (const auto& v : c["vocab_dict"]) vocab.push_back(v.is_string() ? v.get<std::string>() : "");
    return vocab;
  }
  const std::string cls = Str(c, "characters_class");
  std::vector<std::string> chars = CodePoints(Str(c, "characters"));
  const std::vector<std::string> punct = CodePoints(Str(c, "punctuations"));
  std::vector<std::string> vocab;
  auto add = [&](const std::string& s) {
    if (!s.empty()) vocab.push_back(s);
  };
  if (absl::EndsWith(cls, "VitsCharacters")) {
    for (const auto& p : CodePoints(Str(c, "phonemes"))) chars.push_back(p);
    add(Str(c, "pad"));
    vocab.insert(vocab.end(), punct.begin(), punct.end());
    vocab.insert(vocab.end(), chars.begin(), chars.end());
    add(Str(c, "blank"));
    return vocab;
  }
  if (absl::EndsWith(cls, "IPAPhonemes") && !Str(c, "phonemes").empty()) chars = CodePoints(Str(c, "phonemes"));
  const bool unique = Flag(c, "is_unique", false), sorted = Flag(c, "is_sorted", true);
  if (unique && !sorted) {
    return absl::FailedPreconditionError(
        "characters.is_unique without is_sorted: Coqui built this vocabulary from a Python set, in an order that "
        "cannot be reproduced");
  }
  if (unique) {
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
  } else if (sorted) {
    std::sort(chars.begin(), chars.end());  // UTF-8 byte order is code point order, as Python's sorted()
  }
  for (const char* special : {"pad", "eos", "bos", "blank"}) add(Str(c, special));
  vocab.insert(vocab.end(), chars.begin(), chars.end());
  vocab.insert(vocab.end(), punct.begin(), punct.end());
  return vocab;
}

// The vocabulary as a ttsd table: id 0 (Coqui's pad) is "_"; the other special tokens ("<BLNK>", ...)
// and any id whose character appears again later (Coqui's dict keeps the later id) become unreachable.
absl::StatusOr<SymbolTable> CoquiSymbols(const std::vector<std::string>& vocab, int64_t rows,
                                         std::vector<std::string>* notes) {
  if (static_cast<int64_t>(vocab.size()) != rows) {
    return absl::FailedPreconditionError(absl::StrCat("the config's characters give ", vocab.size(),
                                                      " symbols but the text embedding has ", rows, " rows"));
  }
  std::vector<std::string> symbols(vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id) {
    const bool later_copy = std::find(vocab.begin() + static_cast<std::ptrdiff_t>(id) + 1, vocab.end(), vocab[id]) != vocab.end();
    const bool one_code_point = CodePoints(vocab[id]).size() == 1;
    if (id == 0) {
      symbols[id] = "_";
    } else if (later_copy || !one_code_point || vocab[id] == "_") {
      symbols[id] = UnreachableSymbol(static_cast<int>(id));
      if (!one_code_point) notes->push_back(absl::StrCat("Coqui's '", vocab[id], "' is id ", id));
    } else {
      symbols[id] = vocab[id];
    }
  }
  return SymbolTable::FromList(std::move(symbols));
}

}  // namespace

absl::StatusOr<Source> ReadCoquiSource(const ImportOptions& o) {
  TTSD_ASSIGN_OR_RETURN(auto ckpt, TorchCheckpoint::Open(o.source));
  const PyValue& root = ckpt->root();
  const PyValue* model = root.IsDictLike() ? root.Get("model") : nullptr;
  if (model == nullptr || !model->IsDictLike()) {
    if (root.IsDictLike() && root.Get("state_dict") != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(o.source, ": a Lightning checkpoint (state_dict), not Coqui's; "
                                                               "use `ttsd import piper`"));
    }
    return absl::InvalidArgumentError(absl::StrCat(o.source, ": no 'model' state dict: not a Coqui TTS checkpoint"));
  }
  json config;
  if (!o.config.empty()) {
    TTSD_ASSIGN_OR_RETURN(config, ReadJsonFile(o.config));
  } else if (const PyValue* c = root.Get("config"); c != nullptr && c->IsDictLike()) {
    config = ToJson(*c);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        o.source, ": no 'config' inside: the authors' VITS G_*.pth rather than Coqui's (use `ttsd import vits`), or pass "
                  "--config with the run's config.json"));
  }
  if (Str(config, "model") != "vits") {
    return absl::FailedPreconditionError(absl::StrCat(o.source, ": a Coqui '", Str(config, "model"),
                                                      "' model; ttsd imports Coqui's VITS"));
  }
  Source s;
  s.format = "coqui";
  if (const PyValue* step = root.Get("step"); step && step->kind == PyValue::Kind::kInt) s.step = step->integer;
  TTSD_ASSIGN_OR_RETURN(auto flat, ckpt->Tensors(*model));
  ckpt.reset();
  std::map<std::string, torch::Tensor> g, d;
  for (auto& [name, t] : flat) {
    auto ours = CoquiToVitsName(name);
    if (ours && absl::StartsWith(*ours, "discriminators.")) {
      d[*ours] = t;
    } else {
      g[ours ? *ours : name] = t;  // an unknown name stays as it is, for the importer to name in its refusal
    }
  }
  TTSD_ASSIGN_OR_RETURN(s.generator, GroupWeightNorm(g));
  TTSD_ASSIGN_OR_RETURN(s.discriminator, GroupWeightNorm(d));

  const json args = config.contains("model_args") ? config["model_args"] : json::object();
  const json audio = config.contains("audio") ? config["audio"] : json::object();
  json& hp = s.hparams;
  auto copy = [&](const json& from, const char* theirs, const char* ours) {
    if (from.contains(theirs) && !from[theirs].is_null()) hp[ours] = from[theirs];
  };
  copy(args, "upsample_rates_decoder", "upsample_rates");
  copy(args, "resblock_dilation_sizes_decoder", "resblock_dilation_sizes");
  copy(args, "dropout_p_text_encoder", "p_dropout");
  copy(audio, "sample_rate", "sample_rate");
  copy(audio, "fft_size", "filter_length");
  copy(audio, "hop_length", "hop_length");
  copy(audio, "win_length", "win_length");
  copy(audio, "num_mels", "mel_channels");
  copy(audio, "mel_fmin", "mel_fmin");
  copy(audio, "mel_fmax", "mel_fmax");
  if (args.contains("spec_segment_size") && args["spec_segment_size"].is_number_integer() && hp.contains("hop_length")) {
    hp["segment_size"] = args["spec_segment_size"].get<int>() * hp["hop_length"].get<int>();
  }
  hp["dp_norm_eps"] = 1e-4;  // its deterministic duration predictor's LayerNorm (glow_tts), unlike the authors'
  copy(args, "inference_noise_scale", "noise_scale");
  s.inference["noise_scale"] = hp.contains("noise_scale") ? hp["noise_scale"] : json(0.667);
  if (args.contains("length_scale")) s.inference["length_scale"] = args["length_scale"];
  if (args.contains("inference_noise_scale_dp")) s.inference["noise_w"] = args["inference_noise_scale_dp"];
  if (Flag(args, "use_language_embedding", false)) {
    return absl::FailedPreconditionError("a multilingual Coqui VITS (use_language_embedding, as YourTTS): ttsd's VITS "
                                         "has no language embedding; nothing was written");
  }
  if (Flag(args, "use_d_vector_file", false)) {
    return absl::FailedPreconditionError("a Coqui VITS conditioned on external speaker vectors (use_d_vector_file): "
                                         "ttsd's speakers are an embedding table; nothing was written");
  }
  s.add_blank = Flag(config, "add_blank", true);
  if (!Str(config, "phoneme_language").empty()) s.language = Str(config, "phoneme_language");
  TTSD_ASSIGN_OR_RETURN(auto vocab, CoquiVocab(config));
  TTSD_ASSIGN_OR_RETURN(s.symbols, CoquiSymbols(vocab, SymbolRows(s), &s.notes));
  s.notes.push_back(absl::StrCat("text: Coqui's ", Flag(config, "use_phonemes", false) ? "phonemes" : "characters",
                                 " with blank id ", vocab.empty() ? 0 : std::find(vocab.begin(), vocab.end(),
                                                                                  Str(config["characters"], "blank")) - vocab.begin(),
                                 "; `ttsd synthesize --ids` speaks Coqui's ids exactly"));
  auto emb = s.generator.find("emb_g.weight");
  if (emb != s.generator.end() && emb->second.Shape()[0] > 1) {
    for (int64_t i = 0; i < emb->second.Shape()[0]; ++i) s.speakers.push_back(absl::StrCat("speaker_", i));
    // Coqui keeps speaker names in speakers.pth ({name: id}) beside the checkpoint.
    const fs::path names = fs::path(o.source).parent_path() / "speakers.pth";
    if (fs::exists(names)) {
      if (auto sp = TorchCheckpoint::Open(names.string()); sp.ok() && (*sp)->root().IsDictLike()) {
        for (const auto& [k, v] : (*sp)->root().entries) {
          if (k->kind == PyValue::Kind::kString && v->kind == PyValue::Kind::kInt && v->integer >= 0 &&
              v->integer < static_cast<int64_t>(s.speakers.size())) {
            s.speakers[static_cast<size_t>(v->integer)] = k->text;
          }
        }
      }
    }
  }
  return s;
}

}  // namespace ttsd::core::interop
