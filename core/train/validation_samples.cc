#include "core/train/validation_samples.h"

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/asr/error_rate.h"
#include "core/audio/mcd.h"
#include "core/audio/mel_torch.h"
#include "core/audio/resample.h"
#include "core/audio/wav.h"
#include "core/common/file_util.h"
#include "core/data/feature_cache.h"

namespace ttsd::core::train {
namespace {

// One run's validation audio at one step.
class Speaker {
 public:
  Speaker(TrainableModel& model, const TrainConfig& cfg, int64_t step, std::string dir, EventSink* sink)
      : model_(model), cfg_(cfg), step_(step), dir_(std::move(dir)), sink_(sink) {}

  // Empty (and logged) when the model said nothing usable.
  Spoken Speak(const std::vector<int64_t>& ids, int64_t speaker, uint64_t noise_seed, const std::string& tag,
               const std::string& text) {
    torch::manual_seed(noise_seed);  // the same noise at every validation: changes are the model's
    Spoken out = model_.Speak(ids, speaker);
    if (out.wave.empty()) {
      sink_->OnLog(absl::StrCat("validation audio for ", tag, " skipped: the model predicted (almost) no frames"));
      return {};
    }
    Write(absl::StrCat(dir_, "/", tag, ".wav"), tag, text, out.wave);
    return out;
  }

  // TensorBoard figures for an utterance spoken: the predicted mel over the recorded one, and the
  // alignment the model finds between its symbols and the recorded frames.
  void Figures(const PreparedUtterance& u, const std::vector<int64_t>& ids, const FloatMatrix& target,
               const FloatMatrix& predicted) {
    sink_->OnFigure({step_, absl::StrCat("mel/", u.utt.id), {predicted, target}});
    FloatMatrix alignment = model_.Alignment(ids, u.speaker_id, u, target);
    if (alignment.cols > 0) sink_->OnFigure({step_, absl::StrCat("alignment/", u.utt.id), {alignment}});
  }

  // The recording itself, at the training sample rate, once per run: returned the time it is written,
  // empty afterwards.
  std::vector<float> GroundTruth(const PreparedUtterance& u, const std::string& run_dir) {
    const std::string dir = absl::StrCat(run_dir, "/samples/ground_truth");
    if (std::filesystem::exists(absl::StrCat(dir, "/", u.utt.id, ".wav"))) return {};
    auto audio = ReadAudio(u.utt.audio_path);
    if (!audio.ok()) {
      sink_->OnLog(absl::StrCat("warning: no ground-truth audio for ", u.utt.id, ": ", audio.status().message()));
      return {};
    }
    Audio mono = ToMono(std::move(*audio));
    auto wave = Resample(mono.samples, mono.sample_rate, cfg_.audio.sample_rate);
    absl::Status st = wave.ok() ? EnsureDirectory(dir) : wave.status();
    if (!st.ok()) {
      sink_->OnLog(absl::StrCat("warning: no ground-truth audio for ", u.utt.id, ": ", st.message()));
      return {};
    }
    Write(absl::StrCat(dir, "/", u.utt.id, ".wav"), absl::StrCat("ground_truth-", u.utt.id), u.utt.text, *wave);
    return std::move(*wave);
  }

 private:
  void Write(const std::string& path, const std::string& tag, const std::string& text, const std::vector<float>& wave) {
    if (auto st = WriteWav16(path, wave, cfg_.audio.sample_rate); !st.ok()) {
      sink_->OnLog(absl::StrCat("warning: validation audio: ", st.message()));
      return;
    }
    SampleEvent e;
    e.step = step_;
    e.tag = tag;
    e.path = path;
    e.sample_rate = cfg_.audio.sample_rate;
    e.duration_seconds = static_cast<double>(wave.size()) / cfg_.audio.sample_rate;
    e.text = text;
    sink_->OnSample(e);
  }

  TrainableModel& model_;
  const TrainConfig& cfg_;
  int64_t step_;
  std::string dir_;
  EventSink* sink_;
};

}  // namespace

std::map<std::string, double> WriteValidationSamples(TrainableModel& model, const PreparedDataset& ds,
                                                     const std::vector<ValidationSentence>& sentences,
                                                     const TrainConfig& cfg, const torch::Device& device,
                                                     int64_t step, const std::string& run_dir, EventSink* sink,
                                                     asr::Recognizer* recognizer) {
  const size_t n = std::min<size_t>(static_cast<size_t>(cfg.validation.samples), ds.validation.size());
  if (n == 0 && sentences.empty()) return {};
  const std::string dir = absl::StrCat(run_dir, "/samples/step_", step);
  if (auto st = EnsureDirectory(dir); !st.ok()) {
    sink->OnLog(absl::StrCat("warning: no validation audio: ", st.message()));
    return {};
  }
  GeneratorGuard generators(device);
  torch::NoGradGuard no_grad;
  Speaker speaker(model, cfg, step, dir, sink);
  double mcd_sum = 0;
  int mcd_count = 0;
  // What the model said, and (once per run, with the recordings) what the speaker said: the recogniser's
  // own errors on the recordings are the floor that val/wer can come down to.
  asr::ErrorCounts errors, recording_errors;
  int recognised = 0, recordings_recognised = 0;
  auto recognise = [&](const std::vector<float>& wave, const std::string& text, const std::string& tag,
                       asr::ErrorCounts& counts, int& count) {
    if (recognizer == nullptr || wave.empty()) return;
    auto heard = recognizer->Transcribe(wave, cfg.audio.sample_rate);
    if (!heard.ok()) {
      sink->OnLog(absl::StrCat("warning: no transcript of ", tag, ": ", heard.status().message()));
      return;
    }
    counts.Add(text, *heard);
    ++count;
    sink->OnLog(absl::StrCat("heard ", tag, ": \"", *heard, "\""));
  };
  for (size_t i = 0; i < n; ++i) {
    const PreparedUtterance& u = ds.utterances[ds.validation[i]];
    auto features = ReadFeatureFile(u.feature_path);
    if (!features.ok()) {
      sink->OnLog(absl::StrCat("warning: no validation audio for ", u.utt.id, ": ", features.status().message()));
      continue;
    }
    recognise(speaker.GroundTruth(u, run_dir), u.utt.text, absl::StrCat("ground_truth-", u.utt.id), recording_errors,
              recordings_recognised);
    std::vector<int64_t> ids(features->ids.begin(), features->ids.end());
    auto spoken = speaker.Speak(ids, u.speaker_id, cfg.seed + i, u.utt.id, u.utt.text);
    if (spoken.wave.empty()) continue;
    if (i == 0) speaker.Figures(u, ids, features->mel, spoken.mel);
    recognise(spoken.wave, u.utt.text, u.utt.id, errors, recognised);
    const double mcd = MelCepstralDistortion(spoken.mel, features->mel);
    if (std::isfinite(mcd)) {
      mcd_sum += mcd;
      ++mcd_count;
    }
  }
  // Sentences in the voice of the first training utterance (in a fine-tune, the new speaker).
  const int64_t sentence_speaker = ds.train.empty() ? 0 : ds.utterances[ds.train.front()].speaker_id;
  for (size_t i = 0; i < sentences.size(); ++i) {
    const std::string tag = absl::StrCat("sentence_", i);
    recognise(speaker.Speak(sentences[i].ids, sentence_speaker, cfg.seed + 1000 + i, tag, sentences[i].text).wave,
              sentences[i].text, tag, errors, recognised);
  }
  std::map<std::string, double> metrics;
  if (mcd_count > 0) metrics["val/mcd"] = mcd_sum / mcd_count;
  if (recognised > 0) {
    metrics["val/wer"] = errors.wer();
    metrics["val/cer"] = errors.cer();
  }
  if (recordings_recognised > 0) {
    metrics["val/wer_recordings"] = recording_errors.wer();
    metrics["val/cer_recordings"] = recording_errors.cer();
  }
  return metrics;
}

}  // namespace ttsd::core::train
