#include "core/text/tokenizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/common/status.h"
#include "core/text/normalize.h"
#include "core/text/unicode.h"
#include "core/text/utf8.h"

namespace ttsd::core {

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(const TextConfig& config, SymbolTable symbols) {
  std::unique_ptr<Phonemizer> phonemizer;
  if (config.mode == "phonemes") {
    TTSD_ASSIGN_OR_RETURN(phonemizer, Phonemizer::Create(config.language));
  }
  std::optional<Lexicon> lexicon;
  if (!config.lexicon.empty()) {
    TTSD_ASSIGN_OR_RETURN(lexicon, Lexicon::Load(config.lexicon, config));
  }
  TTSD_ASSIGN_OR_RETURN(Cleaners cleaners, Cleaners::Compile(config.cleaners));
  return std::unique_ptr<Tokenizer>(
      new Tokenizer(config, std::move(symbols), std::move(phonemizer), std::move(lexicon), std::move(cleaners)));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::ForConfig(const TextConfig& config) {
  TTSD_ASSIGN_OR_RETURN(SymbolTable symbols, SymbolTable::ForConfig(config));
  return Create(config, std::move(symbols));
}

absl::StatusOr<TokenizedText> Tokenizer::Encode(const std::string& text) const {
  TokenizedText out;
  std::vector<std::string> cps;
  size_t bad = 0;
  if (!SplitUtf8(text, &cps, &bad)) {
    return absl::InvalidArgumentError(absl::StrCat("text is not valid UTF-8 (bad byte at offset ", bad, ")"));
  }
  // The language's own rewrites see the text as typed (composed), then one Unicode form, so "é" typed
  // composed or decomposed is the same symbol(s).
  std::string cleaned;
  if (!cleaners_.empty()) {
    TTSD_ASSIGN_OR_RETURN(std::string composed, NormalizeUnicode(text, "nfc"));
    TTSD_ASSIGN_OR_RETURN(cleaned, cleaners_.Apply(composed));
  }
  TTSD_ASSIGN_OR_RETURN(std::string unified, NormalizeUnicode(cleaners_.empty() ? text : cleaned, config_.unicode_form));
  if (config_.normalize) unified = NormalizeText(unified, config_.language);
  out.normalized = CollapseUnicodeWhitespace(unified);
  if (phonemizer_) {
    // Lexicon words are matched in the case they would have in characters mode.
    if (lexicon_) {
      TTSD_ASSIGN_OR_RETURN(std::string lowered, NormalizeUnicode(LowercaseFor(out.normalized, config_.language),
                                                                  config_.unicode_form));
      TTSD_ASSIGN_OR_RETURN(out.symbols, ApplyLexicon(*lexicon_, config_.lowercase ? lowered : out.normalized,
                                                      [this](const std::string& run) { return phonemizer_->Phonemize(run); }));
    } else {
      TTSD_ASSIGN_OR_RETURN(out.symbols, phonemizer_->Phonemize(out.normalized));
    }
  } else {
    if (config_.lowercase) {  // case mapping can leave text out of its form (Turkish İ -> i + dot above)
      TTSD_ASSIGN_OR_RETURN(out.normalized, NormalizeUnicode(LowercaseFor(out.normalized, config_.language),
                                                             config_.unicode_form));
    }
    if (config_.punctuation == "strip") out.normalized = CollapseUnicodeWhitespace(StripPunctuation(out.normalized));
    out.symbols = out.normalized;
    if (lexicon_) {
      TTSD_ASSIGN_OR_RETURN(out.symbols, ApplyLexicon(*lexicon_, out.normalized, [](const std::string& run) {
                              return absl::StatusOr<std::string>(run);
                            }));
    }
  }
  SplitUtf8(out.symbols, &cps);
  for (const auto& cp : cps) {
    int id = symbols_.Id(cp);
    if (id < 0) {
      if (std::find(out.unknown.begin(), out.unknown.end(), cp) == out.unknown.end()) out.unknown.push_back(cp);
      continue;
    }
    if (config_.add_blank) out.ids.push_back(SymbolTable::kPadId);
    out.ids.push_back(id);
  }
  if (config_.add_blank && !out.ids.empty()) out.ids.push_back(SymbolTable::kPadId);
  return out;
}

}  // namespace ttsd::core
