// Synthesizer: a trained checkpoint + text -> speech (Glow-TTS: log-mel -> Griffin-Lim; VITS: the generator). Everything it needs
// (config, symbol table, speakers) comes from the checkpoint itself, so a checkpoint file is a voice.
// Not thread-safe (one model, one phonemizer); create one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/audio/matrix.h"
#include "core/config/train_config.h"

namespace ttsd::core::inference {

struct SynthesisOptions {
  std::string speaker;        // name from the training data; empty = the first speaker
  double noise_scale = -1;    // < 0: the config's model.noise_scale
  double length_scale = -1;   // < 0: the config's model.length_scale
  double noise_scale_w = -1;  // VITS, stochastic durations: < 0: the config's model.vits.noise_scale_w
  int griffin_lim_iters = 0;  // 0: the config's audio.griffin_lim_iters
  uint64_t seed = 0;
};

struct Synthesis {
  std::string symbols;      // what the model read (IPA or characters)
  FloatMatrix mel;          // [n_mels, frames] log-mel (VITS: measured on its audio)
  std::vector<float> wave;  // at sample_rate: Griffin-Lim of the mel (Glow-TTS), or the generator's (VITS)
  int sample_rate = 0;
  double mcd_db = -1;       // Resynthesize only: mel-cepstral distortion against the recording (core/audio/mcd.h)
};

class Synthesizer {
 public:
  // `checkpoint` is a ckpt-*.pt file or a run folder (then its checkpoints/latest is used).
  static absl::StatusOr<std::unique_ptr<Synthesizer>> Create(const std::string& checkpoint);
  ~Synthesizer();

  absl::StatusOr<Synthesis> Synthesize(const std::string& text, const SynthesisOptions& options);
  // Symbol ids as the model reads them (a frontend's output, or another tool's ids for a parity check);
  // `symbols` stays empty.
  absl::StatusOr<Synthesis> SynthesizeIds(const std::vector<int64_t>& ids, const SynthesisOptions& options);
  // Copy-synthesis of a recording (any rate, any channels): VITS through its posterior encoder and
  // generator, Glow-TTS as Griffin-Lim of the recording's log-mel. Text, prior and durations are
  // bypassed, so this is what the voice's vocoder makes of perfect acoustics: compare it with
  // Synthesize to tell a weak generator from a weak text side. Uses options' speaker, seed and
  // griffin_lim_iters; `symbols` is empty, `mel` is measured on the result, and `mcd_db` says how
  // far that is from the recording's.
  absl::StatusOr<Synthesis> Resynthesize(const std::string& audio_path, const SynthesisOptions& options);
  const std::vector<std::string>& speakers() const;
  const TrainConfig& config() const;
  const std::string& checkpoint_path() const;

 private:
  struct Impl;
  explicit Synthesizer(std::unique_ptr<Impl> impl);
  absl::StatusOr<int64_t> SpeakerIndex(const std::string& name) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ttsd::core::inference
