// Validation audio: after each validation the model speaks the first `validation.samples` held-out
// utterances (their own text, speaker and symbol ids), vocoded with Griffin-Lim, written to
// <run>/samples/step_<step>/<utterance id>.wav and reported through the sink (so the daemon streams
// them to watchers). Generating audio draws random numbers (the prior's noise); the generators are
// restored afterwards, so a run with samples trains exactly as one without.
#pragma once

#include <torch/torch.h>

#include <string>

#include "core/config/train_config.h"
#include "core/data/dataset.h"
#include "core/models/glow_tts/glow_tts.h"
#include "core/train/event_sink.h"

namespace ttsd::core::train {

// Problems (an utterance whose features cannot be read, a mel too short to vocode, a full disk) are
// logged through the sink and skipped: audio is for listening, never a reason to stop training.
void WriteValidationSamples(models::GlowTts& model, const PreparedDataset& ds, const TrainConfig& cfg,
                            const torch::Device& device, int64_t step, const std::string& run_dir, EventSink* sink);

}  // namespace ttsd::core::train
