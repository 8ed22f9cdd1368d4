#include "core/config/validate.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "core/asr/recognizer.h"
#include "core/config/config_errors.h"
#include "core/text/cleaners.h"

namespace ttsd::core {
namespace {

template <class Options>
bool OneOf(const std::string& v, const Options& options, std::string* list) {
  bool found = false;
  for (const auto& o : options) {
    absl::StrAppend(list, list->empty() ? "" : ", ", o);
    if (v == o) found = true;
  }
  return found;
}

void CheckEnum(ConfigErrors& e, const std::string& path, const std::string& v,
               std::initializer_list<const char*> options) {
  std::string list;
  if (!OneOf(v, options, &list)) e.Add(path, absl::StrCat("'", v, "' is not one of: ", list));
}

void ValidateAudio(const AudioConfig& a, ConfigErrors& e) {
  if (a.sample_rate < 8000 || a.sample_rate > 96000) e.Add("audio.sample_rate", "must be in [8000, 96000]");
  if (a.n_fft < 64 || (a.n_fft & (a.n_fft - 1)) != 0) e.Add("audio.n_fft", "must be a power of two >= 64");
  if (a.win_length <= 0 || a.win_length > a.n_fft) e.Add("audio.win_length", "must be in [1, n_fft]");
  if (a.hop_length <= 0 || a.hop_length > a.win_length) e.Add("audio.hop_length", "must be in [1, win_length]");
  if (a.n_mels < 1 || a.n_mels > 512) e.Add("audio.n_mels", "must be in [1, 512]");
  if (a.fmin < 0) e.Add("audio.fmin", "must be >= 0");
  if (a.fmax <= a.fmin || a.fmax > a.sample_rate / 2.0) {
    e.Add("audio.fmax", absl::StrCat("must be > fmin and <= sample_rate/2 (", a.sample_rate / 2, ")"));
  }
  if (!(a.log_clamp > 0)) e.Add("audio.log_clamp", "must be > 0");
  if (a.griffin_lim_iters < 1 || a.griffin_lim_iters > 1000) e.Add("audio.griffin_lim_iters", "must be in [1, 1000]");
}

void ValidateData(const DataConfig& d, ConfigErrors& e) {
  CheckEnum(e, "data.format", d.format, {"ljspeech", "multispeaker", "jsonl"});
  namespace fs = std::filesystem;
  if (d.path.empty()) {
    e.Add("data.path", "is required: the dataset folder (with metadata.csv and wavs/)");
  } else if (!fs::is_directory(d.path)) {
    e.Add("data.path", absl::StrCat("dataset folder ", d.path, " does not exist or is not a directory"));
  }
  if (!(d.max_audio_seconds > 0)) e.Add("data.max_audio_seconds", "must be > 0");
  if (d.min_audio_seconds < 0 || d.min_audio_seconds >= d.max_audio_seconds) {
    e.Add("data.min_audio_seconds", "must be >= 0 and < max_audio_seconds");
  }
  if (d.max_text_length < 1) e.Add("data.max_text_length", "must be >= 1");
  if (d.clip_fraction < 0 || d.clip_fraction > 1) e.Add("data.clip_fraction", "must be in [0, 1]");
  if (d.num_workers < 1 || d.num_workers > 256) e.Add("data.num_workers", "must be in [1, 256]");
  const auto& v = d.validation;
  if (v.fraction < 0 || v.fraction >= 1) e.Add("data.validation.fraction", "must be in [0, 1)");
  if (v.count < 0) e.Add("data.validation.count", "must be >= 0");
  if (!v.file_list.empty() && !fs::is_regular_file(v.file_list)) {
    e.Add("data.validation.file_list", absl::StrCat("file ", v.file_list, " does not exist"));
  }
}

void ValidateText(const TextConfig& t, ConfigErrors& e) {
  CheckEnum(e, "text.mode", t.mode, {"phonemes", "characters"});
  if (t.mode == "phonemes" && t.language.empty()) e.Add("text.language", "is required in phonemes mode");
  CheckEnum(e, "text.unicode_form", t.unicode_form, {"nfc", "nfd", "nfkc", "nfkd"});
  CheckEnum(e, "text.punctuation", t.punctuation, {"keep", "strip"});
  if (!t.symbols_file.empty() && !std::filesystem::is_regular_file(t.symbols_file)) {
    e.Add("text.symbols_file", absl::StrCat("file ", t.symbols_file, " does not exist"));
  }
  if (!t.lexicon.empty() && !std::filesystem::is_regular_file(t.lexicon)) {
    e.Add("text.lexicon", absl::StrCat("file ", t.lexicon, " does not exist"));
  }
  for (const CleanerProblem& p : CheckCleanerRules(t.cleaners)) {
    e.Add(absl::StrCat("text.cleaners[", p.rule, "]", p.field.empty() ? "" : ".", p.field), p.message);
  }
}

void ValidateBatch(const BatchConfig& b, ConfigErrors& e) {
  if (b.size < 0) e.Add("batch.size", "must be >= 0 (0 = use max_frames)");
  if (b.size == 0 && b.max_frames < 1) e.Add("batch.max_frames", "must be >= 1 when batch.size is 0");
  if (b.bucket_width < 1) e.Add("batch.bucket_width", "must be >= 1");
  if (b.prefetch < 1 || b.prefetch > 1024) e.Add("batch.prefetch", "must be in [1, 1024]");
}

void ValidateModel(const ModelConfig& m, ConfigErrors& e) {
  CheckEnum(e, "model.type", m.type, {"glow_tts", "vits"});
  ModelConfig unused;
  if (!ModelPreset(m.type, m.preset, &unused)) CheckEnum(e, "model.preset", m.preset, {"tiny", "small", "base"});
  auto positive = [&](const char* path, int v) {
    if (v < 1) e.Add(path, "must be >= 1");
  };
  positive("model.hidden_channels", m.hidden_channels);
  positive("model.filter_channels", m.filter_channels);
  positive("model.n_layers", m.n_layers);
  positive("model.filter_channels_dp", m.filter_channels_dp);
  positive("model.decoder_hidden", m.decoder_hidden);
  positive("model.decoder_blocks", m.decoder_blocks);
  positive("model.decoder_block_layers", m.decoder_block_layers);
  positive("model.speaker_channels", m.speaker_channels);
  if (m.n_heads < 1 || m.hidden_channels % m.n_heads != 0) e.Add("model.n_heads", "must divide hidden_channels");
  if (m.kernel_size < 1 || m.kernel_size % 2 == 0) e.Add("model.kernel_size", "must be odd");
  if (m.decoder_kernel < 1 || m.decoder_kernel % 2 == 0) e.Add("model.decoder_kernel", "must be odd");
  if (m.decoder_dilation_rate < 1) e.Add("model.decoder_dilation_rate", "must be >= 1");
  if (m.window_size < 0) e.Add("model.window_size", "must be >= 0");
  if (m.prenet_layers < 0) e.Add("model.prenet_layers", "must be >= 0");
  if (m.n_sqz < 1) e.Add("model.n_sqz", "must be >= 1");
  if (m.n_split < 2 || m.n_split % 2 != 0) e.Add("model.n_split", "must be an even number >= 2");
  for (auto [path, p] : {std::pair{"model.p_dropout", m.p_dropout}, {"model.decoder_dropout", m.decoder_dropout}}) {
    if (p < 0 || p >= 1) e.Add(path, "must be in [0, 1)");
  }
  if (!(m.noise_scale >= 0)) e.Add("model.noise_scale", "must be >= 0");
  if (!(m.length_scale > 0)) e.Add("model.length_scale", "must be > 0");
}

// The metrics a validation logs, and what makes each one exist.
void CheckValidationMetric(ConfigErrors& e, const TrainConfig& c, const char* path, const std::string& metric) {
  std::string list;
  // The model's own loss terms (val/* at validation, train/* of the newest logged step), then what every
  // model's validation measures.
  const bool vits = c.model.type == "vits";
  const std::vector<std::string> model_terms =
      vits ? std::vector<std::string>{"val/loss", "val/mel_loss", "val/kl_loss", "val/duration_loss", "train/loss",
                                      "train/mel_loss", "train/kl_loss", "train/duration_loss", "train/gen_loss",
                                      "train/fm_loss", "train/disc_loss"}
           : std::vector<std::string>{"val/loss", "val/mle", "val/duration", "train/loss", "train/mle", "train/duration"};
  std::vector<std::string> known = model_terms;
  for (const char* m : {"val/mcd", "val/wer", "val/cer"}) known.push_back(m);
  if (OneOf(metric, known, &list)) {
    if (metric == "val/mcd" && c.validation.samples == 0) {
      e.Add(path, "val/mcd is measured on the validation samples: set validation.samples >= 1");
    }
    if ((metric == "val/wer" || metric == "val/cer") && c.validation.asr == "none") {
      e.Add(path, absl::StrCat(metric, " comes from speech recognition: set validation.asr: pocketsphinx"));
    }
    return;
  }
  e.Add(path, absl::StrCat("'", metric, "' is not a metric a validation can judge by: ", list));
}

void ValidateTraining(const TrainConfig& c, ConfigErrors& e) {
  const TrainingConfig& t = c.training;
  if (t.epochs < 1) e.Add("training.epochs", "must be >= 1");
  if (t.max_steps < 0) e.Add("training.max_steps", "must be >= 0 (0 = no limit)");
  CheckEnum(e, "training.optimizer", t.optimizer, {"adam", "adamw"});
  CheckEnum(e, "training.scheduler", t.scheduler, {"noam", "constant", "exponential"});
  if (!(t.lr_decay > 0 && t.lr_decay <= 1)) e.Add("training.lr_decay", "must be in (0, 1]");
  CheckEnum(e, "training.precision", t.precision, {"fp32", "bf16", "fp16"});
  if (!(t.learning_rate > 0)) e.Add("training.learning_rate", "must be > 0");
  if (t.warmup_steps < 1) e.Add("training.warmup_steps", "must be >= 1");
  if (t.adam_beta1 < 0 || t.adam_beta1 >= 1) e.Add("training.adam_beta1", "must be in [0, 1)");
  if (t.adam_beta2 < 0 || t.adam_beta2 >= 1) e.Add("training.adam_beta2", "must be in [0, 1)");
  if (!(t.adam_eps > 0)) e.Add("training.adam_eps", "must be > 0");
  if (t.weight_decay < 0) e.Add("training.weight_decay", "must be >= 0");
  if (t.grad_clip < 0) e.Add("training.grad_clip", "must be >= 0 (0 = off)");
  if (t.max_nonfinite_steps < 1) e.Add("training.max_nonfinite_steps", "must be >= 1");
  if (t.log_interval < 1) e.Add("training.log_interval", "must be >= 1");
  if (t.max_restarts < 0) e.Add("training.max_restarts", "must be >= 0");
  bool cuda = t.device.rfind("cuda", 0) == 0;
  if (t.device != "cpu" && !(t.device == "cuda" || t.device.rfind("cuda:", 0) == 0)) {
    e.Add("training.device", "must be cpu, cuda or cuda:N");
  }
  if (t.precision != "fp32" && !cuda) e.Add("training.precision", "bf16 and fp16 need a CUDA device; the CPU trains in fp32");
  if (c.validation.interval_steps < 0) e.Add("validation.interval_steps", "must be >= 0");
  if (c.validation.max_batches < 0) e.Add("validation.max_batches", "must be >= 0");
  if (c.validation.samples < 0) e.Add("validation.samples", "must be >= 0");
  CheckEnum(e, "validation.asr", c.validation.asr, {"none", "pocketsphinx"});
  if (c.validation.asr == "pocketsphinx") {
    if (c.text.language.rfind("en", 0) != 0) {
      e.Add("validation.asr", absl::StrCat("pocketsphinx recognises English only; text.language is '", c.text.language,
                                           "': set validation.asr: none"));
    } else if (asr::PocketsphinxModelDir().empty()) {
      e.Add("validation.asr", "pocketsphinx's en-us model is not installed: install pocketsphinx-en-us, or set "
                              "validation.asr: none");
    }
    if (c.validation.samples == 0 && c.validation.sentences.empty()) {
      e.Add("validation.asr", "has nothing to recognise: set validation.samples >= 1 or give validation.sentences");
    }
  }
  if (c.checkpoint.interval_steps < 1) e.Add("checkpoint.interval_steps", "must be >= 1");
  if (c.checkpoint.keep_last < 1) e.Add("checkpoint.keep_last", "must be >= 1");
  CheckValidationMetric(e, c, "checkpoint.best_metric", c.checkpoint.best_metric);
  CheckEnum(e, "checkpoint.best_mode", c.checkpoint.best_mode, {"min", "max"});
  const EarlyStoppingConfig& es = c.early_stopping;
  if (!es.metric.empty()) {
    CheckValidationMetric(e, c, "early_stopping.metric", es.metric);
    CheckEnum(e, "early_stopping.mode", es.mode, {"min", "max"});
    if (es.patience < 1) e.Add("early_stopping.patience", "must be >= 1 (validations)");
    if (!(es.min_delta >= 0)) e.Add("early_stopping.min_delta", "must be >= 0");
  }
}

void ValidateFinetune(const FinetuneConfig& f, ConfigErrors& e) {
  const std::string& p = f.pretrained_model_path;
  if (p.empty()) {
    for (auto [key, list] : {std::pair{"finetune.include", &f.include}, {"finetune.exclude", &f.exclude},
                             {"finetune.freeze", &f.freeze}, {"finetune.reinit", &f.reinit}}) {
      if (!list->empty()) e.Add(key, "needs finetune.pretrained_model_path: the model to fine-tune");
    }
    return;
  }
  if (p.rfind("job:", 0) == 0) return;  // the daemon resolves it at submission
  if (!std::filesystem::exists(p)) {
    e.Add("finetune.pretrained_model_path", absl::StrCat(p, " does not exist (give a ckpt-*.pt file or a run folder)"));
  }
}

}  // namespace

// Every field of a config section as text, in Visit() order (for comparing sections).
class PrintVisitor {
 public:
  template <class T>
  void operator()(const char* key, const T& field) {
    out << key << '=';
    if constexpr (std::is_same_v<T, std::vector<int>>) {
      for (int x : field) out << x << ',';
    } else if constexpr (std::is_same_v<T, std::vector<std::vector<int>>>) {
      for (const auto& inner : field) {
        for (int x : inner) out << x << ',';
        out << '|';
      }
    } else {
      out << field;
    }
    out << ';';
  }
  std::ostringstream out;
};

std::string Printed(const VitsConfig& v) {
  PrintVisitor p;
  const_cast<VitsConfig&>(v).Visit(p);
  return p.out.str();
}

// model.vits: only read by VITS; each generator level's transposed conv must grow the length by
// exactly its rate, and the levels together by the hop, or audio and spectrogram frames disagree.
void ValidateVits(const TrainConfig& c, ConfigErrors& e) {
  const VitsConfig& v = c.model.vits;
  if (c.model.type == "vits" && c.training.precision != "fp32") {
    e.Add("training.precision", "VITS trains in fp32 (mixed precision for its two networks is not implemented yet)");
  }
  if (c.model.type != "vits") {
    // Resolved configs print the section with its defaults; only a changed value is a mistake.
    if (Printed(v) != Printed(VitsConfig{})) {
      e.Add("model.vits", absl::StrCat("applies to model.type: vits only (this config trains ", c.model.type,
                                       "): remove the section"));
    }
    return;
  }
  for (auto [path, value] : {std::pair{"model.vits.inter_channels", v.inter_channels},
                             {"model.vits.posterior_layers", v.posterior_layers},
                             {"model.vits.posterior_kernel", v.posterior_kernel}, {"model.vits.flows", v.flows},
                             {"model.vits.flow_layers", v.flow_layers}, {"model.vits.flow_kernel", v.flow_kernel},
                             {"model.vits.sdp_flows", v.sdp_flows},
                             {"model.vits.upsample_initial_channels", v.upsample_initial_channels}}) {
    if (value < 1) e.Add(path, "must be >= 1");
  }
  if (v.inter_channels % 2 != 0) e.Add("model.vits.inter_channels", "must be even (the flow's couplings halve it)");
  if (v.posterior_kernel % 2 == 0) e.Add("model.vits.posterior_kernel", "must be odd");
  if (v.flow_kernel % 2 == 0) e.Add("model.vits.flow_kernel", "must be odd");
  CheckEnum(e, "model.vits.duration_predictor", v.duration_predictor, {"stochastic", "deterministic"});
  if (v.sdp_dropout < 0 || v.sdp_dropout >= 1) e.Add("model.vits.sdp_dropout", "must be in [0, 1)");
  if (v.sdp_channels < 0) e.Add("model.vits.sdp_channels", "must be >= 0 (0: hidden_channels)");
  if (!(v.dp_norm_eps > 0 && v.dp_norm_eps < 1)) e.Add("model.vits.dp_norm_eps", "must be in (0, 1)");
  const auto& rates = v.upsample_rates;
  if (rates.empty()) e.Add("model.vits.upsample_rates", "must list at least one rate");
  if (v.upsample_kernels.size() != rates.size()) {
    e.Add("model.vits.upsample_kernels", absl::StrCat("must have one kernel per upsample rate (", rates.size(),
                                                      " rates, ", v.upsample_kernels.size(), " kernels)"));
  }
  if (rates.size() > 16) {
    e.Add("model.vits.upsample_rates", "at most 16 levels");
    return;
  }
  int64_t product = 1;
  for (size_t i = 0; i < rates.size(); ++i) {
    if (rates[i] < 1 || rates[i] > 64) {
      e.Add("model.vits.upsample_rates", "every rate must be in [1, 64]");
      return;
    }
    product *= rates[i];  // <= 2^30 * 64 here: no overflow
    if (product > (int64_t{1} << 30)) break;
    if (i < v.upsample_kernels.size() && (v.upsample_kernels[i] < rates[i] || (v.upsample_kernels[i] - rates[i]) % 2 != 0)) {
      e.Add("model.vits.upsample_kernels", absl::StrCat("kernel ", v.upsample_kernels[i], " for rate ", rates[i],
                                                        ": each kernel must be >= its rate, with an even difference"));
    }
  }
  if (product != c.audio.hop_length) {
    e.Add("model.vits.upsample_rates", absl::StrCat("multiply to ", product > (int64_t{1} << 30) ? "more than 2^30" : absl::StrCat(product),
                                                    " but audio.hop_length is ", c.audio.hop_length,
                                                    ": the generator must make one hop of audio per frame"));
  }
  if (v.upsample_initial_channels < 1 || v.upsample_initial_channels % (1 << rates.size()) != 0) {
    e.Add("model.vits.upsample_initial_channels",
          absl::StrCat("must be divisible by 2^", rates.size(), " (it halves at every upsampling)"));
  }
  if (v.resblock_kernels.empty()) e.Add("model.vits.resblock_kernels", "must list at least one kernel");
  for (int k : v.resblock_kernels) {
    if (k < 1 || k % 2 == 0) e.Add("model.vits.resblock_kernels", "every kernel must be odd");
  }
  if (v.resblock_dilations.empty()) e.Add("model.vits.resblock_dilations", "must list at least one dilation");
  for (int d : v.resblock_dilations) {
    if (d < 1) e.Add("model.vits.resblock_dilations", "every dilation must be >= 1");
  }
  const auto& per_kernel = v.resblock_dilations_per_kernel;
  if (!per_kernel.empty() && per_kernel.size() != v.resblock_kernels.size()) {
    e.Add("model.vits.resblock_dilations_per_kernel",
          absl::StrCat("must have one list per resblock kernel (", v.resblock_kernels.size(), " kernels, ",
                       per_kernel.size(), " lists), or be empty to use resblock_dilations for every kernel"));
  }
  for (const auto& list : per_kernel) {
    if (list.empty()) e.Add("model.vits.resblock_dilations_per_kernel", "every list must hold at least one dilation");
    for (int d : list) {
      if (d < 1) e.Add("model.vits.resblock_dilations_per_kernel", "every dilation must be >= 1");
    }
  }
  if (v.resblock_type != 1 && v.resblock_type != 2) {
    e.Add("model.vits.resblock_type", "must be 1 (two convs per dilation) or 2 (one conv per dilation)");
  }
  if (c.audio.hop_length > 0 && (v.segment_size < c.audio.hop_length || v.segment_size % c.audio.hop_length != 0)) {
    e.Add("model.vits.segment_size", absl::StrCat("must be a positive multiple of audio.hop_length (",
                                                  c.audio.hop_length, ")"));
  }
  for (int p : v.discriminator_periods) {
    if (p < 2) e.Add("model.vits.discriminator_periods", "every period must be >= 2");
  }
  if (!(v.discriminator_width > 0 && v.discriminator_width <= 4)) {
    e.Add("model.vits.discriminator_width", "must be in (0, 4]");
  }
  if (!(v.mel_loss_weight >= 0)) e.Add("model.vits.mel_loss_weight", "must be >= 0");
  if (!(v.kl_loss_weight >= 0)) e.Add("model.vits.kl_loss_weight", "must be >= 0");
  if (!(v.noise_scale_w >= 0)) e.Add("model.vits.noise_scale_w", "must be >= 0");
}

void ValidateDistributed(const TrainConfig& c, ConfigErrors& e) {
  const DistributedConfig& d = c.distributed;
  if (d.world_size < 1 || d.world_size > 4096) e.Add("distributed.world_size", "must be in [1, 4096]");
  if (d.backend != "auto" && d.backend != "gloo" && d.backend != "nccl") {
    e.Add("distributed.backend", absl::StrCat("unknown backend \"", d.backend, "\" (auto, gloo or nccl)"));
  }
  if (d.backend == "nccl" && c.training.device.rfind("cuda", 0) != 0) {
    e.Add("distributed.backend", "nccl needs training.device: cuda (use gloo on the CPU)");
  }
  if (d.timeout_s < 10) e.Add("distributed.timeout_s", "must be >= 10 seconds");
  // Every rank needs at least one utterance of each global batch.
  if (d.world_size > 1 && c.batch.size > 0 && c.batch.size < d.world_size) {
    e.Add("batch.size", absl::StrCat("is smaller than distributed.world_size (", d.world_size,
                                     "): each rank needs at least one utterance per batch"));
  }
}

absl::Status ValidateConfig(const TrainConfig& c, const SourceMap& marks, const std::string& source) {
  ConfigErrors e(source, &marks);
  if (c.name.empty()) e.Add("name", "must not be empty");
  if (c.threads < 0 || c.threads > 1024) e.Add("threads", "must be in [0, 1024] (0 = every core)");
  ValidateData(c.data, e);
  ValidateAudio(c.audio, e);
  ValidateText(c.text, e);
  ValidateBatch(c.batch, e);
  ValidateModel(c.model, e);
  ValidateVits(c, e);
  ValidateTraining(c, e);
  ValidateFinetune(c.finetune, e);
  ValidateDistributed(c, e);
  if (c.model.type == "glow_tts" && c.model.n_sqz >= 1 && c.model.n_split >= 2 && (c.audio.n_mels * c.model.n_sqz) % c.model.n_split != 0) {
    e.Add("model.n_split", "must divide audio.n_mels * model.n_sqz");
  }
  if (c.batch.size == 0 && c.audio.sample_rate > 0 && c.audio.hop_length > 0) {
    double longest_frames = c.data.max_audio_seconds * c.audio.sample_rate / c.audio.hop_length;
    if (c.batch.max_frames < longest_frames) {
      e.Add("batch.max_frames", absl::StrCat("is smaller than one utterance of data.max_audio_seconds (",
                                             static_cast<long>(longest_frames),
                                             " frames): raise it or lower max_audio_seconds"));
    }
  }
  return e.ToStatus();
}

}  // namespace ttsd::core
