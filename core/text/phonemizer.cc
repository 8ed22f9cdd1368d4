#include "core/text/phonemizer.h"

#include <espeak-ng/speak_lib.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/text/normalize.h"
#include "core/text/utf8.h"

namespace ttsd::core {
namespace {

std::mutex& EspeakMutex() {
  static std::mutex mu;
  return mu;
}

// Called with the lock held. espeak_Initialize once per process; DONT_EXIT so a missing data folder
// is an error, not an exit().
absl::Status InitLocked() {
  static int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
  if (rate <= 0) {
    return absl::FailedPreconditionError(
        "espeak-ng failed to initialise (is the espeak-ng-data package installed? run "
        "deploy/install-deps.sh)");
  }
  return absl::OkStatus();
}

absl::Status SelectVoiceLocked(const std::string& language) {
  if (espeak_SetVoiceByName(language.c_str()) != EE_OK) {
    return absl::NotFoundError(absl::StrCat("espeak-ng has no voice '", language,
                                            "' (list them with `espeak-ng --voices`)"));
  }
  return absl::OkStatus();
}

// Punctuation that ends a clause; kept as symbols in the output.
bool IsClausePunctuation(const std::string& cp) {
  static const char* kPunct[] = {",", ".", ";", ":", "!", "?", "…", "—", "¡", "¿"};
  for (const char* p : kPunct) {
    if (cp == p) return true;
  }
  return false;
}

std::string PhonemizeClauseLocked(const std::string& clause) {
  std::string out;
  const void* ptr = clause.c_str();
  while (ptr != nullptr) {
    const char* ph = espeak_TextToPhonemes(&ptr, espeakCHARS_UTF8, espeakPHONEMES_IPA);
    if (ph == nullptr) break;
    std::string piece = CollapseWhitespace(ph);
    if (!piece.empty()) absl::StrAppend(&out, out.empty() ? "" : " ", piece);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Phonemizer>> Phonemizer::Create(const std::string& language) {
  std::lock_guard<std::mutex> lock(EspeakMutex());
  if (auto st = InitLocked(); !st.ok()) return st;
  if (auto st = SelectVoiceLocked(language); !st.ok()) return st;
  return std::unique_ptr<Phonemizer>(new Phonemizer(language));
}

absl::StatusOr<std::string> Phonemizer::Phonemize(const std::string& text) const {
  std::vector<std::string> cps;
  size_t bad = 0;
  if (!SplitUtf8(text, &cps, &bad)) {
    return absl::InvalidArgumentError(absl::StrCat("text is not valid UTF-8 at byte ", bad));
  }
  std::lock_guard<std::mutex> lock(EspeakMutex());
  if (auto st = SelectVoiceLocked(language_); !st.ok()) return st;
  std::string out, clause;
  auto flush = [&](const std::string& punct) {
    std::string ph = PhonemizeClauseLocked(clause);
    clause.clear();
    if (!ph.empty()) absl::StrAppend(&out, out.empty() || out.back() == ' ' ? "" : " ", ph);
    if (!punct.empty()) out += punct;
  };
  for (const auto& cp : cps) {
    if (IsClausePunctuation(cp)) {
      flush(cp);
    } else {
      clause += cp;
    }
  }
  flush("");
  return CollapseWhitespace(out);
}

}  // namespace ttsd::core
