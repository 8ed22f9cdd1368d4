#include "core/text/lexicon.h"

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/common/status.h"
#include "core/text/unicode.h"
#include "core/text/utf8.h"

namespace ttsd::core {
namespace {

// The word as the tokenizer will see it: the config's form, and its case rules where it lowercases.
absl::StatusOr<std::string> Canonical(const std::string& word, const TextConfig& text) {
  TTSD_ASSIGN_OR_RETURN(std::string w, NormalizeUnicode(word, text.unicode_form));
  if (text.lowercase) w = LowercaseFor(w, text.language);
  return NormalizeUnicode(w, text.unicode_form);
}

// Splits a white-space free token into leading punctuation, the word, trailing punctuation.
void SplitPunctuation(const std::string& token, std::string* lead, std::string* word, std::string* trail) {
  std::vector<std::string> cps;
  SplitUtf8(token, &cps);
  size_t b = 0, e = cps.size();
  while (b < e && StripPunctuation(cps[b]).empty()) ++b;
  while (e > b && StripPunctuation(cps[e - 1]).empty()) --e;
  lead->clear();
  word->clear();
  trail->clear();
  for (size_t i = 0; i < cps.size(); ++i) (i < b ? *lead : i < e ? *word : *trail) += cps[i];
}

}  // namespace

absl::StatusOr<Lexicon> Lexicon::Load(const std::string& path, const TextConfig& text) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("text.lexicon: cannot open ", path));
  Lexicon lex;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string where = absl::StrCat(path, ":", n);
    if (!IsValidUtf8(line)) return absl::InvalidArgumentError(absl::StrCat(where, ": not valid UTF-8"));
    std::string clean = CollapseUnicodeWhitespace(line);
    if (clean.empty() || clean[0] == '#') continue;
    const size_t space = clean.find(' ');
    if (space == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": '", clean, "' has no pronunciation (word, a space, then it)"));
    }
    TTSD_ASSIGN_OR_RETURN(std::string word, Canonical(clean.substr(0, space), text));
    TTSD_ASSIGN_OR_RETURN(std::string said, NormalizeUnicode(clean.substr(space + 1), text.unicode_form));
    if (!lex.entries_.emplace(word, said).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": '", word, "' is already in the lexicon"));
    }
  }
  return lex;
}

const std::string* Lexicon::Find(std::string_view word) const {
  auto it = entries_.find(std::string(word));
  return it == entries_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::string> ApplyLexicon(const Lexicon& lexicon, const std::string& text,
                                         const std::function<absl::StatusOr<std::string>(const std::string&)>& speak) {
  std::string out, run, lead, word, trail;
  auto append = [&out](const std::string& piece) {
    if (!piece.empty()) absl::StrAppend(&out, out.empty() ? "" : " ", piece);
  };
  auto flush = [&]() -> absl::Status {
    if (run.empty()) return absl::OkStatus();
    TTSD_ASSIGN_OR_RETURN(std::string said, speak(run));
    append(said);
    run.clear();
    return absl::OkStatus();
  };
  for (absl::string_view token : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    SplitPunctuation(std::string(token), &lead, &word, &trail);
    const std::string* said = word.empty() ? nullptr : lexicon.Find(word);
    if (said == nullptr) {
      absl::StrAppend(&run, run.empty() ? "" : " ", token);
      continue;
    }
    TTSD_RETURN_IF_ERROR(flush());
    append(lead + *said + trail);
  }
  TTSD_RETURN_IF_ERROR(flush());
  return out;
}

}  // namespace ttsd::core
