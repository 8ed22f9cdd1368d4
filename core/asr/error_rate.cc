#include "core/asr/error_rate.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "absl/strings/str_split.h"
#include "core/text/normalize.h"

namespace ttsd::core::asr {
namespace {

template <class Seq>
int64_t EditDistance(const Seq& a, const Seq& b) {
  std::vector<int64_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string NormalizeForScoring(const std::string& text) {
  // Hyphens join number words ("forty-two"): spaces, so they count as the words a recogniser hears.
  std::string expanded = AsciiLower(NormalizeText(text, "en-us"));
  std::string out;
  for (size_t i = 0; i < expanded.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(expanded[i]);
    const bool inner_apostrophe = c == '\'' && i > 0 && i + 1 < expanded.size() &&
                                  std::isalnum(static_cast<unsigned char>(expanded[i - 1])) &&
                                  std::isalnum(static_cast<unsigned char>(expanded[i + 1]));
    if (std::isalnum(c) || c >= 0x80 || inner_apostrophe) {
      out.push_back(static_cast<char>(c));
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void ErrorCounts::Add(const std::string& reference, const std::string& hypothesis) {
  const std::string ref = NormalizeForScoring(reference), hyp = NormalizeForScoring(hypothesis);
  std::vector<std::string> rw = absl::StrSplit(ref, ' ', absl::SkipEmpty());
  std::vector<std::string> hw = absl::StrSplit(hyp, ' ', absl::SkipEmpty());
  word_edits += EditDistance(rw, hw);
  words += static_cast<int64_t>(rw.size());
  char_edits += EditDistance(ref, hyp);
  chars += static_cast<int64_t>(ref.size());
}

}  // namespace ttsd::core::asr
