#include "core/interop/vits_import.h"

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/file_util.h"
#include "core/common/sha256.h"
#include "core/common/status.h"
#include "core/config/config_yaml.h"
#include "core/interop/torch_checkpoint.h"
#include "core/interop/vits_names.h"
#include "core/models/vits/vits.h"
#include "core/text/symbols.h"
#include "core/text/utf8.h"
#include "core/train/checkpoint.h"

namespace ttsd::core::interop {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One source parameter: a plain tensor, or a weight-norm pair (g, v) normalised over every dim but 0,
// as torch.nn.utils.weight_norm and its parametrizations version both store it by default.
struct SourceTensor {
  torch::Tensor plain, g, v;
  bool WeightNorm() const { return g.defined(); }
  torch::Tensor Folded() const { return WeightNorm() ? torch::_weight_norm(v, g, 0) : plain; }
  std::vector<int64_t> Shape() const { return WeightNorm() ? v.sizes().vec() : plain.sizes().vec(); }
};
using SourceTensors = std::map<std::string, SourceTensor>;

std::string ShapeText(const std::vector<int64_t>& s) { return absl::StrCat("[", absl::StrJoin(s, ", "), "]"); }

// Groups "x.weight_g" + "x.weight_v" (and "x.parametrizations.weight.original0/1") under "x.weight".
absl::StatusOr<SourceTensors> GroupWeightNorm(const std::map<std::string, torch::Tensor>& flat) {
  SourceTensors out;
  for (const auto& [name, t] : flat) {
    auto tensor = t.to(torch::kFloat32);
    std::string base;
    if (absl::EndsWith(name, ".weight_g")) {
      out[name.substr(0, name.size() - 2)].g = tensor;
    } else if (absl::EndsWith(name, ".weight_v")) {
      out[name.substr(0, name.size() - 2)].v = tensor;
    } else if (absl::EndsWith(name, ".parametrizations.weight.original0")) {
      out[name.substr(0, name.size() - 34) + ".weight"].g = tensor;
    } else if (absl::EndsWith(name, ".parametrizations.weight.original1")) {
      out[name.substr(0, name.size() - 34) + ".weight"].v = tensor;
    } else {
      out[name].plain = tensor;
    }
  }
  for (const auto& [name, s] : out) {
    if (s.g.defined() != s.v.defined()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": half of a weight-norm pair (g without v or v without g)"));
    }
  }
  return out;
}

// Everything the importer learns from the source before building the ttsd model.
struct Source {
  std::string format;
  SourceTensors generator, discriminator;
  std::vector<std::string> unused;  // tensors of other networks (Piper's model_mrd, ...)
  json hparams = json::object();    // the architecture the source's own config states
  json voice = json::object();      // Piper's voice config (config.json / .onnx.json)
  int64_t step = 0;
};

// PyValue (scalars, lists, dicts) -> JSON, for reading the hyper_parameters a checkpoint pickled.
json ToJson(const PyValue& v, int depth = 0) {
  using K = PyValue::Kind;
  if (depth > 16) return nullptr;
  switch (v.kind) {
    case K::kBool: return v.boolean;
    case K::kInt: return v.integer;
    case K::kFloat: return v.number;
    case K::kString: return v.text;
    case K::kList:
    case K::kTuple: {
      json a = json::array();
      for (const auto& x : v.items) a.push_back(ToJson(*x, depth + 1));
      return a;
    }
    default:
      if (v.IsDictLike()) {
        json o = json::object();
        for (const auto& [k, x] : v.entries) {
          if (k->kind == K::kString) o[k->text] = ToJson(*x, depth + 1);
        }
        return o;
      }
      return nullptr;  // tensors, paths and other objects carry no architecture
  }
}

absl::StatusOr<json> ReadJsonFile(const std::string& path) {
  TTSD_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  return j;
}

// Piper writes config.json into the training folder, above lightning_logs/version_N/checkpoints/.
std::string FindPiperConfig(const std::string& ckpt) {
  fs::path dir = fs::absolute(ckpt).parent_path();
  for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (fs::exists(dir / "config.json")) return (dir / "config.json").string();
  }
  return "";
}

absl::StatusOr<Source> ReadPiper(const ImportOptions& o, TorchCheckpoint& ckpt) {
  Source s;
  s.format = "piper";
  const PyValue& root = ckpt.root();
  const PyValue* state = root.IsDictLike() ? root.Get("state_dict") : nullptr;
  if (state == nullptr || !state->IsDictLike()) {
    if (root.IsDictLike() && root.Get("model") != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          o.source, ": has 'model' but no Lightning 'state_dict': this is an original VITS (G_*.pth) or Coqui "
                    "checkpoint, not Piper's; use --from vits or --from coqui"));
    }
    return absl::InvalidArgumentError(absl::StrCat(o.source, ": no 'state_dict': not a Piper (Lightning) checkpoint"));
  }
  TTSD_ASSIGN_OR_RETURN(auto flat, ckpt.Tensors(*state));
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
  TTSD_ASSIGN_OR_RETURN(s.voice, ReadJsonFile(config));
  if (!s.voice.contains("phoneme_id_map") || !s.voice["phoneme_id_map"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(config, ": no phoneme_id_map: not a Piper voice config"));
  }
  return s;
}

// Counts "prefix<N>.<suffix>" names (N = 0, 1, ...) until one is missing.
int Count(const SourceTensors& t, const std::string& prefix, const std::string& suffix, int step = 1, int first = 0) {
  int n = 0;
  while (t.count(absl::StrCat(prefix, first + n * step, suffix))) ++n;
  return n;
}

// The ttsd config that rebuilds the source's network: shapes give most of it; rates, dilations and
// audio settings come from the source's own config (they have no tensor of their own).
absl::StatusOr<TrainConfig> Architecture(const Source& s, ImportReport* report) {
  const SourceTensors& g = s.generator;
  auto need = [&](const std::string& name) -> absl::StatusOr<std::vector<int64_t>> {
    auto it = g.find(name);
    if (it == g.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the source has no ", name, ": it is not the VITS architecture ttsd imports (a different model, or a "
                                      "newer variant such as VITS2); nothing was written"));
    }
    return it->second.Shape();
  };
  const json& hp = s.hparams;
  auto hp_int = [&](const char* key, int fallback) { return hp.contains(key) && hp[key].is_number() ? hp[key].get<int>() : fallback; };
  TrainConfig c;
  ModelPreset("vits", "base", &c.model);
  c.training = TrainingDefaults("vits");
  ModelConfig& m = c.model;
  VitsConfig& v = m.vits;
  TTSD_ASSIGN_OR_RETURN(auto emb, need("enc_p.emb.weight"));
  m.hidden_channels = static_cast<int>(emb[1]);
  m.n_layers = Count(g, "enc_p.encoder.attn_layers.", ".conv_q.weight");
  TTSD_ASSIGN_OR_RETURN(auto rel, need("enc_p.encoder.attn_layers.0.emb_rel_k"));
  if (rel.size() != 3 || rel[0] != 1) {
    return absl::FailedPreconditionError(absl::StrCat("enc_p.encoder.attn_layers.0.emb_rel_k has shape ", ShapeText(rel),
                                                      ": ttsd shares relative embeddings across heads ([1, 2w+1, d])"));
  }
  m.window_size = static_cast<int>((rel[1] - 1) / 2);
  m.n_heads = static_cast<int>(m.hidden_channels / rel[2]);
  TTSD_ASSIGN_OR_RETURN(auto ffn, need("enc_p.encoder.ffn_layers.0.conv_1.weight"));
  m.filter_channels = static_cast<int>(ffn[0]);
  m.kernel_size = static_cast<int>(ffn[2]);
  if (hp.contains("p_dropout") && hp["p_dropout"].is_number()) m.p_dropout = hp["p_dropout"].get<double>();
  TTSD_ASSIGN_OR_RETURN(auto proj, need("enc_p.proj.weight"));
  v.inter_channels = static_cast<int>(proj[0] / 2);
  v.posterior_layers = Count(g, "enc_q.enc.in_layers.", ".weight");
  TTSD_ASSIGN_OR_RETURN(auto post_in, need("enc_q.enc.in_layers.0.weight"));
  v.posterior_kernel = static_cast<int>(post_in[2]);
  TTSD_ASSIGN_OR_RETURN(auto post_pre, need("enc_q.pre.weight"));
  v.flows = Count(g, "flow.flows.", ".pre.weight", 2);
  v.flow_layers = Count(g, "flow.flows.0.enc.in_layers.", ".weight");
  TTSD_ASSIGN_OR_RETURN(auto flow_in, need("flow.flows.0.enc.in_layers.0.weight"));
  v.flow_kernel = static_cast<int>(flow_in[2]);
  TTSD_ASSIGN_OR_RETURN(auto flow_pre, need("flow.flows.0.pre.weight"));
  if (post_pre[0] != m.hidden_channels || flow_pre[0] != m.hidden_channels) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the posterior encoder (", post_pre[0], ") or flow (", flow_pre[0], ") is not as wide as the text encoder (",
        m.hidden_channels, "): ttsd's VITS uses one hidden width for all three"));
  }
  const bool stochastic = g.count("dp.flows.0.m") > 0;
  v.duration_predictor = stochastic ? "stochastic" : "deterministic";
  if (stochastic) {
    v.sdp_flows = Count(g, "dp.flows.", ".pre.weight", 2, 1);
    const int post_flows = Count(g, "dp.post_flows.", ".pre.weight", 2, 1);
    if (post_flows != v.sdp_flows) {
      return absl::FailedPreconditionError(absl::StrCat("the duration predictor has ", v.sdp_flows, " flows but ",
                                                        post_flows, " posterior flows: ttsd builds as many of each"));
    }
  } else {
    TTSD_ASSIGN_OR_RETURN(auto dp1, need("dp.conv_1.weight"));
    m.filter_channels_dp = static_cast<int>(dp1[0]);
  }
  int64_t n_speakers = 1;
  if (auto it = g.find("emb_g.weight"); it != g.end()) {
    n_speakers = it->second.Shape()[0];
    m.speaker_channels = static_cast<int>(it->second.Shape()[1]);
  }
  // The generator: widths and kernels from shapes, rates and dilations from the config.
  TTSD_ASSIGN_OR_RETURN(auto conv_pre, need("dec.conv_pre.weight"));
  v.upsample_initial_channels = static_cast<int>(conv_pre[0]);
  const int levels = Count(g, "dec.ups.", ".weight");
  v.upsample_kernels.clear();
  for (int i = 0; i < levels; ++i) v.upsample_kernels.push_back(static_cast<int>(g.at(absl::StrCat("dec.ups.", i, ".weight")).Shape()[2]));
  const int blocks = Count(g, "dec.resblocks.", ".convs1.0.weight") + Count(g, "dec.resblocks.", ".convs.0.weight");
  if (levels == 0 || blocks == 0 || blocks % levels != 0) {
    return absl::FailedPreconditionError(absl::StrCat("the generator has ", levels, " upsampling levels and ", blocks,
                                                      " residual blocks: not HiFi-GAN's layout"));
  }
  v.resblock_type = g.count("dec.resblocks.0.convs1.0.weight") ? 1 : 2;
  const std::string conv = v.resblock_type == 1 ? ".convs1." : ".convs.";
  v.resblock_kernels.clear();
  std::vector<int> dilation_counts;
  for (int k = 0; k < blocks / levels; ++k) {
    v.resblock_kernels.push_back(static_cast<int>(g.at(absl::StrCat("dec.resblocks.", k, conv, "0.weight")).Shape()[2]));
    dilation_counts.push_back(Count(g, absl::StrCat("dec.resblocks.", k, conv), ".weight"));
  }
  auto ints = [](const json& j, std::vector<int>* out) {
    if (!j.is_array()) return false;
    for (const auto& x : j) {
      if (!x.is_number_integer()) return false;
      out->push_back(x.get<int>());
    }
    return true;
  };
  std::vector<int> rates;
  if (!hp.contains("upsample_rates") || !ints(hp["upsample_rates"], &rates) || static_cast<int>(rates.size()) != levels) {
    return absl::FailedPreconditionError(absl::StrCat("the source's config gives no upsample_rates for its ", levels,
                                                      " upsampling levels (they have no tensor to read them from)"));
  }
  v.upsample_rates = rates;
  v.resblock_dilations_per_kernel.clear();
  if (hp.contains("resblock_dilation_sizes") && hp["resblock_dilation_sizes"].is_array()) {
    for (const auto& list : hp["resblock_dilation_sizes"]) {
      std::vector<int> d;
      if (!ints(list, &d)) break;
      v.resblock_dilations_per_kernel.push_back(d);
    }
  }
  if (v.resblock_dilations_per_kernel.size() != v.resblock_kernels.size()) {
    return absl::FailedPreconditionError("the source's config gives no resblock_dilation_sizes, one list per kernel");
  }
  for (size_t k = 0; k < dilation_counts.size(); ++k) {
    if (static_cast<int>(v.resblock_dilations_per_kernel[k].size()) != dilation_counts[k]) {
      return absl::FailedPreconditionError(absl::StrCat("resblock_dilation_sizes[", k, "] has ",
                                                        v.resblock_dilations_per_kernel[k].size(), " dilations but the tensors have ",
                                                        dilation_counts[k], " convolutions"));
    }
  }
  v.resblock_dilations = v.resblock_dilations_per_kernel[0];
  v.segment_size = hp_int("segment_size", v.segment_size);
  // Audio: the spectrogram the posterior encoder reads, and the mel of the training loss.
  AudioConfig& a = c.audio;
  a.sample_rate = hp_int("sample_rate", a.sample_rate);
  if (s.voice.contains("audio") && s.voice["audio"].contains("sample_rate")) a.sample_rate = s.voice["audio"]["sample_rate"].get<int>();
  a.n_fft = hp_int("filter_length", a.n_fft);
  a.hop_length = hp_int("hop_length", a.hop_length);
  a.win_length = hp_int("win_length", a.win_length);
  a.n_mels = hp_int("mel_channels", a.n_mels);
  a.fmin = hp.contains("mel_fmin") && hp["mel_fmin"].is_number() ? hp["mel_fmin"].get<double>() : 0.0;
  a.fmax = hp.contains("mel_fmax") && hp["mel_fmax"].is_number() ? hp["mel_fmax"].get<double>() : a.sample_rate / 2.0;
  if ((a.n_fft / 2 + 1) != post_pre[1]) {
    return absl::FailedPreconditionError(absl::StrCat("the posterior encoder reads ", post_pre[1],
                                                      " spectrogram bins but filter_length ", a.n_fft, " gives ",
                                                      a.n_fft / 2 + 1));
  }
  // Inference defaults the voice ships with.
  if (s.voice.contains("inference")) {
    const json& inf = s.voice["inference"];
    if (inf.contains("noise_scale")) m.noise_scale = inf["noise_scale"].get<double>();
    if (inf.contains("length_scale")) m.length_scale = inf["length_scale"].get<double>();
    if (inf.contains("noise_w")) v.noise_scale_w = inf["noise_w"].get<double>();
  }
  report->architecture = absl::StrCat(
      "VITS: text ", m.hidden_channels, " wide, ", m.n_layers, " layers, ", m.n_heads, " heads; ",
      stochastic ? "stochastic" : "deterministic", " durations; HiFi-GAN ResBlock", v.resblock_type, " from ",
      v.upsample_initial_channels, " channels, rates ", absl::StrJoin(v.upsample_rates, ","), "; ", a.sample_rate, " Hz",
      n_speakers > 1 ? absl::StrCat("; ", n_speakers, " speakers (embedding ", m.speaker_channels, ")") : "");
  return c;
}

// Piper's phoneme_id_map as a ttsd symbol table of `size` ids. Ids no phoneme uses get private-use code
// points (U+E000 + id), so the table keeps every id at its place without inventing symbols text can produce.
absl::StatusOr<SymbolTable> PiperSymbols(const json& map, int64_t size, ImportReport* report) {
  std::vector<std::string> symbols(static_cast<size_t>(size));
  for (const auto& [phoneme, ids] : map.items()) {
    std::vector<std::string> cps;
    if (!ids.is_array() || ids.empty()) continue;
    if (ids.size() > 1) {
      report->notes.push_back(absl::StrCat("phoneme '", phoneme, "' maps to ", ids.size(), " ids; its first is kept"));
    }
    const int64_t id = ids[0].get<int64_t>();
    if (id < 0 || id >= size) {
      return absl::FailedPreconditionError(absl::StrCat("phoneme_id_map gives '", phoneme, "' id ", id,
                                                        " but the model's embedding has ", size, " rows"));
    }
    if (!SplitUtf8(phoneme, &cps) || cps.size() != 1) {
      report->notes.push_back(absl::StrCat("phoneme '", phoneme, "' is not one code point; ttsd cannot name id ", id));
      continue;
    }
    if (!symbols[static_cast<size_t>(id)].empty()) {
      report->notes.push_back(absl::StrCat("phonemes '", symbols[static_cast<size_t>(id)], "' and '", phoneme,
                                           "' share id ", id, "; the first is kept"));
      continue;
    }
    symbols[static_cast<size_t>(id)] = phoneme;
  }
  int unused = 0;
  for (size_t id = 0; id < symbols.size(); ++id) {
    if (!symbols[id].empty()) continue;
    ++unused;
    const uint32_t cp = 0xE000 + static_cast<uint32_t>(id);
    symbols[id] = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                   static_cast<char>(0x80 | (cp & 0x3F))};
  }
  if (symbols[0] != "_") {
    return absl::FailedPreconditionError(absl::StrCat("id 0 of phoneme_id_map is '", symbols[0],
                                                      "', not the pad '_' that ttsd's tables start with"));
  }
  if (unused > 0) report->notes.push_back(absl::StrCat(unused, " embedding rows no phoneme uses (kept, unreachable from text)"));
  return SymbolTable::FromList(std::move(symbols));
}

// Copies the source's tensors into `model`, folding or re-expressing weight norm where the two differ.
absl::Status Transfer(const Source& s, models::VitsImpl& model, ImportReport* report) {
  const bool stochastic = !model.sdp.is_empty();
  std::map<std::string, std::pair<const SourceTensor*, std::string>> by_target;  // ttsd base name -> source
  std::set<std::string> used;
  for (const auto& [name, t] : s.generator) {
    if (auto target = VitsGeneratorName(name, stochastic)) by_target[*target] = {&t, name};
  }
  for (const auto& [name, t] : s.discriminator) {
    if (auto target = VitsDiscriminatorName(name)) by_target[*target] = {&t, "D " + name};
  }
  torch::NoGradGuard no_grad;
  auto params = model.named_parameters();
  std::vector<std::string> missing;
  for (const auto& p : params) {
    const std::string& name = p.key();
    if (absl::EndsWith(name, ".weight_v")) continue;  // filled with its weight_g
    const bool target_wn = absl::EndsWith(name, ".weight_g");
    const std::string base = target_wn ? name.substr(0, name.size() - 2) : name;
    auto it = by_target.find(base);
    if (it == by_target.end()) {
      missing.push_back(name);
      continue;
    }
    const SourceTensor& src = *it->second.first;
    used.insert(it->second.second);
    auto mismatch = [&](const torch::Tensor& want) {
      return absl::FailedPreconditionError(absl::StrCat(
          "source ", it->second.second, " has shape ", ShapeText(src.Shape()), " but ttsd's ", base, " needs ",
          ShapeText(want.sizes().vec()), ": ttsd cannot express this layer; nothing was written"));
    };
    if (!target_wn) {
      torch::Tensor w = src.Folded();
      if (w.sizes() != p.value().sizes()) {
        if (w.numel() != p.value().numel()) return mismatch(p.value());
        w = w.reshape(p.value().sizes());
        ++report->reshaped;
      }
      p.value().copy_(w);
      src.WeightNorm() ? ++report->folded : ++report->mapped;
      continue;
    }
    torch::Tensor g = p.value();
    torch::Tensor v = params[base + "_v"];
    // ttsd's transposed convolutions normalise over dim 1 (per output channel); PyTorch's weight_norm
    // over dim 0 (per input channel): re-express those through the folded weight, copy the rest.
    const int64_t dim = absl::StartsWith(base, "decoder.ups.") ? 1 : 0;
    if (src.Shape() != v.sizes().vec()) return mismatch(v);
    if (src.WeightNorm() && dim == 0) {
      v.copy_(src.v);
      g.copy_(src.g.reshape(g.sizes()));
      ++report->mapped;
      continue;
    }
    torch::Tensor w = src.Folded();
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < w.dim(); ++d) {
      if (d != dim) dims.push_back(d);
    }
    v.copy_(w);
    g.copy_(torch::linalg_vector_norm(w, 2, dims, /*keepdim=*/true).reshape(g.sizes()));
    ++report->folded;
  }
  // Missing discriminators are fine (a fine-tune starts them fresh); anything else is not.
  std::vector<std::string> missing_g;
  int missing_d = 0;
  for (const auto& n : missing) {
    if (absl::StartsWith(n, "discriminator.")) {
      ++missing_d;
    } else {
      missing_g.push_back(n);
    }
  }
  if (!missing_g.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the source has nothing for ", missing_g.size(), " of ttsd's generator tensors (", missing_g.front(),
        missing_g.size() > 1 ? ", ..." : "", "): not a VITS layout ttsd reads; nothing was written"));
  }
  if (missing_d > 0) {
    report->notes.push_back(absl::StrCat(
        "no discriminator in the source (", missing_d, " ttsd tensors initialised fresh): a fine-tune trains them "
        "from scratch alongside the generator; give the first steps a lower generator learning rate or freeze the "
        "decoder until they catch up"));
  }
  std::vector<std::string> generator_unused;
  for (const auto& [name, t] : s.generator) {
    if (!used.count(name)) generator_unused.push_back(absl::StrCat(name, " ", ShapeText(t.Shape())));
  }
  if (!generator_unused.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ttsd has no place for ", generator_unused.size(), " generator tensor(s), first ", generator_unused.front(),
        ": a layer ttsd cannot express; nothing was written"));
  }
  for (const auto& [name, t] : s.discriminator) {
    if (!used.count("D " + name)) report->unused.push_back(absl::StrCat("model_d.", name, " ", ShapeText(t.Shape())));
  }
  for (const auto& u : s.unused) report->unused.push_back(u);
  return absl::OkStatus();
}

}  // namespace

std::string ImportReport::ToString() const {
  std::string s = absl::StrCat("Imported ", architecture, "\n", "Tensors  ", mapped, " copied, ", folded,
                               " weight-norm folded or re-expressed, ", reshaped, " reshaped, ", unused.size(),
                               " unused\n");
  for (const auto& u : unused) absl::StrAppend(&s, "  unused: ", u, "\n");
  for (const auto& n : notes) absl::StrAppend(&s, "Note     ", n, "\n");
  absl::StrAppend(&s, "Wrote    ", out, " (sha256 ", sha256.substr(0, 16), "...)\n");
  return s;
}

namespace {
absl::StatusOr<ImportReport> Import(const ImportOptions& o);
}  // namespace

absl::StatusOr<ImportReport> ImportVoice(const ImportOptions& o) {
  try {
    return Import(o);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("import of ", o.source, " failed in LibTorch: ", e.what_without_backtrace()));
  }
}

namespace {

absl::StatusOr<ImportReport> Import(const ImportOptions& o) {
  if (o.format != "piper") {
    return absl::UnimplementedError(absl::StrCat("--from ", o.format, ": not read yet (piper is)"));
  }
  TTSD_ASSIGN_OR_RETURN(auto ckpt, TorchCheckpoint::Open(o.source));
  TTSD_ASSIGN_OR_RETURN(Source src, ReadPiper(o, *ckpt));
  ckpt.reset();
  ImportReport report;
  TTSD_ASSIGN_OR_RETURN(TrainConfig cfg, Architecture(src, &report));
  cfg.name = fs::path(o.source).stem().string();
  cfg.text.mode = "phonemes";
  if (src.voice.contains("espeak") && src.voice["espeak"].contains("voice")) {
    cfg.text.language = src.voice["espeak"]["voice"].get<std::string>();
  }
  const int64_t n_symbols = src.generator.at("enc_p.emb.weight").Shape()[0];
  TTSD_ASSIGN_OR_RETURN(SymbolTable symbols, PiperSymbols(src.voice["phoneme_id_map"], n_symbols, &report));
  std::vector<std::string> speakers = {cfg.name};
  const int64_t n_speakers = src.generator.count("emb_g.weight") ? src.generator.at("emb_g.weight").Shape()[0] : 1;
  if (n_speakers > 1) {
    speakers.assign(static_cast<size_t>(n_speakers), "");
    if (src.voice.contains("speaker_id_map") && src.voice["speaker_id_map"].is_object()) {
      for (const auto& [name, id] : src.voice["speaker_id_map"].items()) {
        if (id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < n_speakers) {
          speakers[id.get<size_t>()] = name;
        }
      }
    }
    for (size_t i = 0; i < speakers.size(); ++i) {
      if (speakers[i].empty()) speakers[i] = absl::StrCat("speaker_", i);
    }
  }
  models::Vits model(cfg.model, cfg.audio, n_symbols, n_speakers);
  TTSD_RETURN_IF_ERROR(Transfer(src, *model, &report));

  train::CheckpointMeta meta;
  meta.config_yaml = EmitConfigYaml(cfg);
  meta.symbols_json = symbols.ToJson();
  meta.speakers_json = json(speakers).dump();
  TTSD_ASSIGN_OR_RETURN(std::string source_sha, Sha256File(o.source));
  meta.parent_json = json{{"path", fs::absolute(o.source).string()},
                          {"sha256", source_sha},
                          {"step", src.step},
                          {"imported_from", src.format}}
                         .dump();
  TTSD_ASSIGN_OR_RETURN(train::CheckpointInfo info, train::SaveCheckpointFile(o.out, *model, meta));
  report.out = info.path;
  report.sha256 = info.sha256;
  return report;
}

}  // namespace
}  // namespace ttsd::core::interop
