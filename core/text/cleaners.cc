#include "core/text/cleaners.h"

#include <unicode/normalizer2.h>
#include <unicode/parseerr.h>
#include <unicode/regex.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace ttsd::core {

struct Cleaners::Rule {
  size_t index = 0;
  std::unique_ptr<icu::RegexPattern> pattern;  // shared by threads: each call makes its own matcher
  icu::UnicodeString replacement;
  std::unique_ptr<icu::Transliterator> transform;
  mutable std::mutex transform_mu;  // ICU does not promise that one transliterator serves two threads
};

namespace {

// A pattern gets this many match-engine steps per rule and text, so a pattern that backtracks without
// end fails one utterance instead of hanging a data loader.
constexpr int32_t kMatchStepLimit = 1000;  // 0.1 s measured for a runaway pattern here

icu::UnicodeString Nfc(const std::string& utf8) {
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(utf8);
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return s;
  icu::UnicodeString out = nfc->normalize(s, status);
  return U_FAILURE(status) ? s : out;
}

// ICU reads "$" in a replacement as a group reference: "$2", "${name}"; "\" quotes the next character.
// A reference to a group the pattern lacks would only fail at the first match, mid-training: find it now.
std::string CheckReplacement(const icu::UnicodeString& r, const icu::RegexPattern& pattern) {
  const icu::UnicodeString nothing;
  UErrorCode counted = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> matcher(pattern.matcher(nothing, counted));  // the pattern has no count
  const int32_t groups = U_SUCCESS(counted) ? matcher->groupCount() : 0;
  for (int32_t i = 0; i < r.length(); ++i) {
    const char16_t c = r.charAt(i);
    if (c == u'\\') {
      ++i;
      continue;
    }
    if (c != u'$') continue;
    if (i + 1 >= r.length()) return "ends in a $ that names no group: write \\$ for a dollar sign";
    const char16_t next = r.charAt(i + 1);
    if (u_isdigit(next)) {
      const int digit = u_charDigitValue(next);
      if (digit > groups) {
        return absl::StrCat("refers to group $", digit, " but the pattern has ", groups,
                            " group(s) in parentheses");
      }
    } else if (next == u'{') {
      const int32_t close = r.indexOf(u'}', i + 2);
      if (close < 0) return "has a ${ without its closing }";
      UErrorCode status = U_ZERO_ERROR;
      pattern.groupNumberFromName(r.tempSubStringBetween(i + 2, close), status);
      if (U_FAILURE(status)) {
        std::string name;
        r.tempSubStringBetween(i + 2, close).toUTF8String(name);
        return absl::StrCat("refers to group ${", name, "} but the pattern has no (?<", name, ">...) group");
      }
    } else {
      return "has a $ that names no group: write \\$ for a dollar sign, $1 for group 1";
    }
  }
  return "";
}

// One rule compiled, or the problem that stops it.
std::unique_ptr<Cleaners::Rule> CompileRule(const CleanerRule& in, size_t index, CleanerProblem* problem) {
  problem->rule = index;
  auto fail = [&](std::string field, std::string message) {
    problem->field = std::move(field);
    problem->message = std::move(message);
    return nullptr;
  };
  const bool has_match = !in.match.empty(), has_transform = !in.transliterate.empty();
  if (has_match == has_transform) {
    return fail("", has_match ? "give match (with replace) or transliterate, not both"
                              : "give match (a regular expression, with replace) or transliterate (an ICU transform)");
  }
  if (has_transform && !in.replace.empty()) return fail("replace", "goes with match, not with transliterate");
  auto rule = std::make_unique<Cleaners::Rule>();
  rule->index = index;
  UParseError where{};
  UErrorCode status = U_ZERO_ERROR;
  if (has_transform) {
    // "A(B)" names B as A's reverse and "([set])" a reverse-only filter; a cleaner only runs forward, so
    // parentheses can only mislead. They are also where ICU 72's ID parser leaks on a malformed ID
    // ("(Any-Latin" without its ")"), so they never reach it.
    if (const size_t paren = in.transliterate.find_first_of("()"); paren != std::string::npos) {
      // Counted in characters, not bytes: a filter such as [ä] may come first.
      const auto character = 1 + std::count_if(in.transliterate.begin(), in.transliterate.begin() + paren,
                                               [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
      return fail("transliterate", absl::StrCat("'", in.transliterate, "' has a '", in.transliterate.substr(paren, 1),
                                                "' at character ", character, ": parentheses name the reverse "
                                                "direction, which a cleaner never runs; write the forward transform "
                                                "alone (in a [set], write \\u0028 and \\u0029 for them)"));
    }
    rule->transform.reset(icu::Transliterator::createInstance(icu::UnicodeString::fromUTF8(in.transliterate),
                                                              UTRANS_FORWARD, where, status));
    if (U_FAILURE(status) || rule->transform == nullptr) {
      return fail("transliterate", absl::StrCat("'", in.transliterate, "' is not an ICU transform (",
                                                u_errorName(status), "); examples: Any-Latin, Cyrillic-Latin, "
                                                "Latin-ASCII, Any-Latin; Latin-ASCII"));
    }
    return rule;
  }
  rule->pattern.reset(icu::RegexPattern::compile(Nfc(in.match), 0, where, status));
  if (U_FAILURE(status) || rule->pattern == nullptr) {
    return fail("match", absl::StrCat("'", in.match, "' is not a regular expression: ", u_errorName(status),
                                      " at character ", where.offset + 1));
  }
  rule->replacement = Nfc(in.replace);
  if (std::string bad = CheckReplacement(rule->replacement, *rule->pattern); !bad.empty()) {
    return fail("replace", absl::StrCat("'", in.replace, "' ", bad));
  }
  return rule;
}

}  // namespace

std::vector<CleanerProblem> CheckCleanerRules(const std::vector<CleanerRule>& rules) {
  std::vector<CleanerProblem> problems;
  for (size_t i = 0; i < rules.size(); ++i) {
    CleanerProblem p;
    if (CompileRule(rules[i], i, &p) == nullptr) problems.push_back(std::move(p));
  }
  return problems;
}

absl::StatusOr<Cleaners> Cleaners::Compile(const std::vector<CleanerRule>& rules) {
  Cleaners out;
  for (size_t i = 0; i < rules.size(); ++i) {
    CleanerProblem p;
    std::unique_ptr<Rule> rule = CompileRule(rules[i], i, &p);
    if (rule == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("text.cleaners[", i, "]", p.field.empty() ? "" : ".", p.field,
                                                     ": ", p.message));
    }
    out.rules_.push_back(std::move(rule));
  }
  return out;
}

absl::StatusOr<std::string> Cleaners::Apply(std::string_view text) const {
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  for (const auto& rule : rules_) {
    if (rule->transform != nullptr) {
      std::lock_guard<std::mutex> lock(rule->transform_mu);
      rule->transform->transliterate(s);
      continue;
    }
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexMatcher> m(rule->pattern->matcher(s, status));
    if (U_SUCCESS(status)) m->setTimeLimit(kMatchStepLimit, status);
    // Not replaceAll: it ends quietly at a time-out, leaving the rest of the text unrewritten.
    icu::UnicodeString replaced;
    while (U_SUCCESS(status) && m->find(status)) m->appendReplacement(replaced, rule->replacement, status);
    if (U_SUCCESS(status)) m->appendTail(replaced);
    if (U_FAILURE(status)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "text.cleaners[", rule->index, "]: ",
          status == U_REGEX_TIME_OUT ? "the pattern ran past its time limit on this text (it backtracks: "
                                       "make it simpler, e.g. without nested repeats such as (a+)+)"
                                     : u_errorName(status)));
    }
    s = std::move(replaced);
  }
  std::string out;
  s.toUTF8String(out);
  return out;
}

}  // namespace ttsd::core
