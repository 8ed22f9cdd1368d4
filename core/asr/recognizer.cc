#include "core/asr/recognizer.h"

#include <pocketsphinx.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/audio/resample.h"

namespace ttsd::core::asr {
namespace {

constexpr int kModelRate = 16000;

}  // namespace

std::string PocketsphinxModelDir() {
  for (const char* dir : {TTSD_POCKETSPHINX_MODEL_DIR "/en-us", "/usr/share/pocketsphinx/model/en-us"}) {
    if (std::filesystem::exists(std::string(dir) + "/en-us/mdef")) return dir;
  }
  return "";
}

struct Recognizer::Impl {
  cmd_ln_t* config = nullptr;
  ps_decoder_t* decoder = nullptr;
  ~Impl() {
    if (decoder != nullptr) ps_free(decoder);
    if (config != nullptr) cmd_ln_free_r(config);
  }
};

Recognizer::Recognizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Recognizer::~Recognizer() = default;

absl::StatusOr<std::unique_ptr<Recognizer>> Recognizer::CreateEnglish() {
  const std::string dir = PocketsphinxModelDir();
  if (dir.empty()) {
    return absl::FailedPreconditionError(
        "validation.asr: pocketsphinx needs the en-us model: install the pocketsphinx-en-us package "
        "(deploy/install-deps.sh does), or set validation.asr: none");
  }
  auto impl = std::make_unique<Impl>();
  const std::string hmm = dir + "/en-us", lm = dir + "/en-us.lm.bin", dict = dir + "/cmudict-en-us.dict";
  impl->config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-lm", lm.c_str(), "-dict", dict.c_str(),
                             "-logfn", "/dev/null", nullptr);
  if (impl->config == nullptr) return absl::InternalError(absl::StrCat("pocketsphinx rejected its model in ", dir));
  impl->decoder = ps_init(impl->config);
  if (impl->decoder == nullptr) return absl::InternalError(absl::StrCat("pocketsphinx could not load its model from ", dir));
  return std::unique_ptr<Recognizer>(new Recognizer(std::move(impl)));
}

absl::StatusOr<std::string> Recognizer::Transcribe(const std::vector<float>& wave, int sample_rate) {
  auto at16k = Resample(wave, sample_rate, kModelRate);
  if (!at16k.ok()) return at16k.status();
  std::vector<int16_t> pcm(at16k->size());
  for (size_t i = 0; i < pcm.size(); ++i) {
    pcm[i] = static_cast<int16_t>(std::lround(std::clamp((*at16k)[i], -1.0f, 1.0f) * 32767.0f));
  }
  if (ps_start_utt(impl_->decoder) < 0) return absl::InternalError("pocketsphinx could not start an utterance");
  ps_process_raw(impl_->decoder, pcm.data(), pcm.size(), FALSE, TRUE);
  ps_end_utt(impl_->decoder);
  int32 score = 0;
  const char* hyp = ps_get_hyp(impl_->decoder, &score);
  return std::string(hyp == nullptr ? "" : hyp);
}

}  // namespace ttsd::core::asr
