#include "core/inference/synthesizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "core/audio/mcd.h"
#include "core/audio/mel.h"
#include "core/audio/mel_torch.h"
#include "core/common/file_util.h"
#include "core/common/status.h"
#include "core/config/config_yaml.h"
#include "core/text/tokenizer.h"
#include "core/text/unicode.h"
#include "core/train/checkpoint.h"
#include "core/train/trainable_model.h"

namespace ttsd::core::inference {
namespace fs = std::filesystem;

struct Synthesizer::Impl {
  std::string path;
  TrainConfig config;
  std::vector<std::string> speakers;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<train::TrainableModel> model;  // reads `config` (per-call options are applied to it)
};

namespace {

absl::StatusOr<std::string> ResolveCheckpoint(const std::string& arg) {
  if (!fs::is_directory(arg)) return arg;
  for (const std::string& dir : {arg, (fs::path(arg) / "checkpoints").string()}) {
    auto latest = ReadFileToString((fs::path(dir) / "latest").string());
    if (latest.ok()) {
      std::string name = *latest;
      while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
      return (fs::path(dir) / name).string();
    }
  }
  return absl::NotFoundError(absl::StrCat(arg, " is a folder without checkpoints/latest; pass a ckpt-*.pt file"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Synthesizer>> Synthesizer::Create(const std::string& checkpoint) {
  auto impl = std::make_unique<Impl>();
  TTSD_ASSIGN_OR_RETURN(impl->path, ResolveCheckpoint(checkpoint));
  TTSD_ASSIGN_OR_RETURN(train::CheckpointMeta meta, train::Checkpointer::ReadMeta(impl->path));
  TTSD_ASSIGN_OR_RETURN(ParsedConfig parsed, ParseConfigYaml(meta.config_yaml, impl->path + " (embedded config)"));
  impl->config = parsed.config;
  TTSD_ASSIGN_OR_RETURN(SymbolTable symbols, SymbolTable::FromJson(meta.symbols_json));
  auto speakers = nlohmann::json::parse(meta.speakers_json, nullptr, false);
  if (speakers.is_discarded() || !speakers.is_array()) return absl::DataLossError(impl->path + ": bad speaker list");
  for (const auto& s : speakers) impl->speakers.push_back(s.get<std::string>());
  const int64_t n_symbols = symbols.size();
  TTSD_ASSIGN_OR_RETURN(impl->tokenizer, Tokenizer::Create(impl->config.text, std::move(symbols)));
  impl->model = train::MakeTrainableModel(impl->config, n_symbols, static_cast<int64_t>(impl->speakers.size()),
                                          torch::kCPU);
  train::CheckpointMeta loaded;
  TTSD_RETURN_IF_ERROR(train::Checkpointer::Load(impl->path, impl->model->module(), {}, &loaded));
  impl->model->module().eval();
  return std::unique_ptr<Synthesizer>(new Synthesizer(std::move(impl)));
}

Synthesizer::Synthesizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Synthesizer::~Synthesizer() = default;
const std::vector<std::string>& Synthesizer::speakers() const { return impl_->speakers; }
const TrainConfig& Synthesizer::config() const { return impl_->config; }
const std::string& Synthesizer::checkpoint_path() const { return impl_->path; }

absl::StatusOr<int64_t> Synthesizer::SpeakerIndex(const std::string& name) const {
  if (name.empty()) return 0;
  auto it = std::find(impl_->speakers.begin(), impl_->speakers.end(), name);
  if (it != impl_->speakers.end()) return it - impl_->speakers.begin();
  std::string known;
  for (const auto& s : impl_->speakers) absl::StrAppend(&known, known.empty() ? "" : ", ", s);
  return absl::InvalidArgumentError(absl::StrCat("unknown speaker '", name, "' (this voice has: ", known, ")"));
}

absl::StatusOr<Synthesis> Synthesizer::Synthesize(const std::string& text, const SynthesisOptions& o) {
  TTSD_ASSIGN_OR_RETURN(TokenizedText tok, impl_->tokenizer->Encode(text));
  if (!tok.unknown.empty()) {  // never speak a sentence with words silently missing
    std::string list;
    for (const auto& s : tok.unknown) absl::StrAppend(&list, list.empty() ? "" : ", ", "'", s, "' (", DescribeCodePoint(s), ")");
    return absl::InvalidArgumentError(absl::StrCat("the text has symbols this voice has no embedding for: ", list,
                                                   "; rephrase it, or fine-tune with a symbol table that has them"));
  }
  if (tok.ids.empty()) return absl::InvalidArgumentError("the text has no speakable symbols");
  TTSD_ASSIGN_OR_RETURN(Synthesis out, SynthesizeIds(std::vector<int64_t>(tok.ids.begin(), tok.ids.end()), o));
  out.symbols = tok.symbols;
  return out;
}

absl::StatusOr<Synthesis> Synthesizer::SynthesizeIds(const std::vector<int64_t>& ids, const SynthesisOptions& o) {
  const int64_t n_symbols = impl_->tokenizer->symbols().size();
  if (ids.empty()) return absl::InvalidArgumentError("no symbol ids to speak");
  for (int64_t id : ids) {
    if (id < 0 || id >= n_symbols) {
      return absl::InvalidArgumentError(absl::StrCat("symbol id ", id, " is outside this voice's table (0..",
                                                     n_symbols - 1, ")"));
    }
  }
  TTSD_ASSIGN_OR_RETURN(const int64_t speaker, SpeakerIndex(o.speaker));
  // This call's options, in the config the model reads, put back afterwards.
  TrainConfig& live = impl_->config;
  const TrainConfig saved = live;
  if (o.noise_scale >= 0) live.model.noise_scale = o.noise_scale;
  if (o.length_scale > 0) live.model.length_scale = o.length_scale;
  if (o.noise_scale_w >= 0) live.model.vits.noise_scale_w = o.noise_scale_w;
  if (o.griffin_lim_iters > 0) live.audio.griffin_lim_iters = o.griffin_lim_iters;
  live.seed = o.seed;
  torch::manual_seed(o.seed);
  train::Spoken spoken = impl_->model->Speak(ids, speaker);
  live = saved;
  if (spoken.wave.empty()) return absl::FailedPreconditionError("the model predicted (almost) no audio for this text");
  Synthesis out;
  out.mel = std::move(spoken.mel);
  out.wave = std::move(spoken.wave);
  out.sample_rate = impl_->config.audio.sample_rate;
  return out;
}

absl::StatusOr<Synthesis> Synthesizer::Resynthesize(const std::string& audio_path, const SynthesisOptions& o) {
  TTSD_ASSIGN_OR_RETURN(const int64_t speaker, SpeakerIndex(o.speaker));
  const AudioConfig& audio = impl_->config.audio;
  TTSD_ASSIGN_OR_RETURN(std::vector<float> wave, LoadWave(audio_path, audio));
  // The posterior encoder's WaveNet and Griffin-Lim both need a few frames to work on.
  if (wave.size() < static_cast<size_t>(4 * audio.n_fft)) {
    return absl::InvalidArgumentError(absl::StrCat(audio_path, ": too short to resynthesize (",
                                                   wave.size(), " samples at ", audio.sample_rate, " Hz; at least ",
                                                   4 * audio.n_fft, ")"));
  }
  TrainConfig& live = impl_->config;
  const TrainConfig saved = live;
  if (o.griffin_lim_iters > 0) live.audio.griffin_lim_iters = o.griffin_lim_iters;
  live.seed = o.seed;
  torch::manual_seed(o.seed);
  std::vector<float> copy = impl_->model->Resynthesize(wave, speaker);
  live = saved;
  Synthesis out;
  MelExtractor mel(audio);
  out.wave = std::move(copy);
  out.mel = mel.Compute(out.wave);
  out.mcd_db = MelCepstralDistortion(out.mel, mel.Compute(wave));
  out.sample_rate = audio.sample_rate;
  return out;
}

}  // namespace ttsd::core::inference
