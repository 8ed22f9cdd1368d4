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
#include "core/interop/import_source.h"
#include "core/interop/vits_names.h"
#include "core/models/vits/vits.h"
#include "core/train/checkpoint.h"

namespace ttsd::core::interop {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

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
  if (m.hidden_channels < 1 || rel[2] < 1 || m.hidden_channels % rel[2] != 0 || rel[1] % 2 != 1) {
    return absl::FailedPreconditionError(absl::StrCat("the text embedding is ", m.hidden_channels,
                                                      " wide but its attention's relative embeddings have shape ",
                                                      ShapeText(rel), ": not a VITS text encoder"));
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
  if (m.n_layers < 1 || v.posterior_layers < 1 || v.flows < 1 || v.flow_layers < 1 || v.inter_channels < 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the source's layers do not count up from 0 (text ", m.n_layers, ", posterior ", v.posterior_layers, ", flows ",
        v.flows, " of ", v.flow_layers, " layers): not the VITS layout ttsd imports"));
  }
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
    TTSD_ASSIGN_OR_RETURN(auto dp_pre, need("dp.pre.weight"));
    if (dp_pre[0] != m.hidden_channels) v.sdp_channels = static_cast<int>(dp_pre[0]);
    if (post_flows != v.sdp_flows) {
      return absl::FailedPreconditionError(absl::StrCat("the duration predictor has ", v.sdp_flows, " flows but ",
                                                        post_flows, " posterior flows: ttsd builds as many of each"));
    }
  } else {
    TTSD_ASSIGN_OR_RETURN(auto dp1, need("dp.conv_1.weight"));
    m.filter_channels_dp = static_cast<int>(dp1[0]);
    if (hp.contains("dp_norm_eps") && hp["dp_norm_eps"].is_number()) v.dp_norm_eps = hp["dp_norm_eps"].get<double>();
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
  const json& inf = s.inference;
  if (inf.contains("noise_scale") && inf["noise_scale"].is_number()) m.noise_scale = inf["noise_scale"].get<double>();
  if (inf.contains("length_scale") && inf["length_scale"].is_number()) m.length_scale = inf["length_scale"].get<double>();
  if (inf.contains("noise_w") && inf["noise_w"].is_number()) v.noise_scale_w = inf["noise_w"].get<double>();
  report->architecture = absl::StrCat(
      "VITS: text ", m.hidden_channels, " wide, ", m.n_layers, " layers, ", m.n_heads, " heads; ",
      stochastic ? "stochastic" : "deterministic", " durations; HiFi-GAN ResBlock", v.resblock_type, " from ",
      v.upsample_initial_channels, " channels, rates ", absl::StrJoin(v.upsample_rates, ","), "; ", a.sample_rate, " Hz",
      n_speakers > 1 ? absl::StrCat("; ", n_speakers, " speakers (embedding ", m.speaker_channels, ")") : "");
  return c;
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
    if (!used.count("D " + name)) report->unused.push_back(absl::StrCat("discriminator ", name, " ", ShapeText(t.Shape())));
  }
  for (const auto& u : s.unused) report->unused.push_back(u);
  return absl::OkStatus();
}

// A fine-tune of the imported voice: its architecture, audio and text settings as imported (a fine-tune
// must keep them; the pre-flight checks), the paper's fine-tuning habits for the rest, and no dataset
// yet: the user names one.
absl::Status WriteFinetuneConfig(const ImportOptions& o, TrainConfig cfg, const std::string& checkpoint) {
  const std::string stem = fs::path(o.source).stem().string();
  cfg.name = stem + "-finetune";
  cfg.output_dir = cfg.name;  // beside the config file
  cfg.data.path.clear();
  cfg.training.max_steps = 2000;
  cfg.training.scheduler = "constant";
  cfg.training.learning_rate = 1e-4;
  cfg.validation.interval_steps = 200;
  cfg.validation.samples = 2;
  cfg.checkpoint.interval_steps = 200;
  cfg.checkpoint.best_metric = "val/mcd";
  cfg.finetune.pretrained_model_path = checkpoint;
  const std::string header = absl::StrCat(
      "# Fine-tune ", stem, " (imported by `ttsd import ", o.format, "`). Set data.path to your dataset (and\n",
      "# text.* to its language), keep the model and audio sections: they are the imported voice's. Then\n",
      "#   ttsd train --config <this file>     or     ttsctl submit <this file>\n");
  return WriteFileAtomic(o.finetune_config, header + EmitConfigYaml(cfg));
}

}  // namespace

std::string ImportReport::ToString() const {
  std::string s = absl::StrCat("Imported ", architecture, "\n", "Tensors  ", mapped, " copied, ", folded,
                               " weight-norm folded or re-expressed, ", reshaped, " reshaped, ", unused.size(),
                               " unused\n");
  for (const auto& u : unused) absl::StrAppend(&s, "  unused: ", u, "\n");
  for (const auto& n : notes) absl::StrAppend(&s, "Note     ", n, "\n");
  absl::StrAppend(&s, "Wrote    ", out, " (sha256 ", sha256.substr(0, 16), "...)\n");
  if (!finetune_config.empty()) absl::StrAppend(&s, "Wrote    ", finetune_config, " (set its data.path, then train)\n");
  return s;
}

namespace {

absl::StatusOr<ImportReport> Import(const ImportOptions& o) {
  absl::StatusOr<Source> read = o.format == "piper"   ? ReadPiperSource(o)
                                : o.format == "vits"  ? ReadVitsSource(o)
                                : o.format == "coqui" ? ReadCoquiSource(o)
                                                      : absl::InvalidArgumentError(absl::StrCat(
                                                            "unknown source format '", o.format, "' (piper, vits, coqui)"));
  TTSD_RETURN_IF_ERROR(read.status());
  Source& src = *read;
  ImportReport report;
  report.notes = src.notes;
  TTSD_ASSIGN_OR_RETURN(TrainConfig cfg, Architecture(src, &report));
  cfg.name = fs::path(o.source).stem().string();
  cfg.text.mode = "phonemes";
  cfg.text.language = src.language;
  cfg.text.add_blank = src.add_blank;
  const SymbolTable& symbols = *src.symbols;
  const int64_t n_symbols = symbols.size();
  std::vector<std::string> speakers = src.speakers.empty() ? std::vector<std::string>{cfg.name} : src.speakers;
  const int64_t n_speakers = static_cast<int64_t>(speakers.size());
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
  if (!o.finetune_config.empty()) {
    TTSD_RETURN_IF_ERROR(WriteFinetuneConfig(o, cfg, fs::absolute(info.path).string()));
    report.finetune_config = o.finetune_config;
  }
  return report;
}

}  // namespace

absl::StatusOr<ImportReport> ImportVoice(const ImportOptions& o) {
  try {
    return Import(o);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("import of ", o.source, " failed in LibTorch: ", e.what_without_backtrace()));
  } catch (const nlohmann::json::exception& e) {  // a config field of an unexpected type
    return absl::InvalidArgumentError(absl::StrCat("import of ", o.source, ": the source's config: ", e.what()));
  }
}

}  // namespace ttsd::core::interop
