// Validation audio and the metrics measured on it. After each validation the model speaks:
//  - the first `validation.samples` held-out utterances (their own text, speaker and symbol ids), and
//    val/mcd compares each with its recording (mel-cepstral distortion, DTW-aligned; core/audio/mcd.h);
//  - every `validation.sentences` text, in the voice of the first training utterance;
// with validation.asr: pocketsphinx, everything spoken is transcribed and scored against its text
// (val/wer, val/cer: core/asr), and the recordings of those held-out utterances once per run
// (val/wer_recordings, val/cer_recordings: what the recogniser gets wrong on real speech).
// Each is made audible by the model (Griffin-Lim for mel models, the generator for VITS), written to <run>/samples/step_<step>/<tag>.wav and reported through
// the sink (so the daemon streams it to watchers and TensorBoard shows it). Once per run the recordings
// of those held-out utterances go to samples/ground_truth/<id>.wav (tag ground_truth-<id>) for comparison. Generating audio
// draws random numbers (the prior's noise); the generators are restored afterwards, so a run with
// samples trains exactly as one without.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "core/asr/recognizer.h"
#include "core/config/train_config.h"
#include "core/data/dataset.h"
#include "core/train/event_sink.h"
#include "core/train/trainable_model.h"

namespace ttsd::core::train {

struct ValidationSentence {
  std::string text;
  std::vector<int64_t> ids;  // tokenized once, at the start of the run
};

// Returns the metrics measured: "val/mcd" when any held-out utterance was spoken, "val/wer" and
// "val/cer" of everything spoken when a recognizer is given, plus "val/wer_recordings" and
// "val/cer_recordings" the time the recordings are written. Problems (features
// that cannot be read, a mel too short to vocode, a full disk) are logged through the sink and skipped:
// audio is for listening, never a reason to stop training.
std::map<std::string, double> WriteValidationSamples(TrainableModel& model, const PreparedDataset& ds,
                                                     const std::vector<ValidationSentence>& sentences,
                                                     const TrainConfig& cfg, const torch::Device& device,
                                                     int64_t step, const std::string& run_dir, EventSink* sink,
                                                     asr::Recognizer* recognizer);

}  // namespace ttsd::core::train
