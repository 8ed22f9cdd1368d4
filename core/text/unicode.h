// Unicode text handling for any script, on ICU: normalisation forms, locale-aware lower-casing, and
// Unicode whitespace and punctuation classes. Input must be valid UTF-8 (the tokenizer checks first).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ttsd::core {

// `form`: nfc (composed: "é" is one code point), nfd (decomposed: "e" + U+0301, so tone and vowel marks
// become symbols of their own), nfkc, nfkd (also folding compatibility forms such as ligatures).
absl::StatusOr<std::string> NormalizeUnicode(std::string_view text, std::string_view form);
bool IsUnicodeForm(std::string_view form);

// Lower-cased by the rules of `language` (a BCP 47 tag such as "tr" or "yo"; Turkish maps "I" to
// dotless "ı"), for every script that has case.
std::string LowercaseFor(std::string_view text, std::string_view language);

// Every run of Unicode white space (tabs, no-break and ideographic spaces, ...) becomes one ASCII space;
// leading and trailing white space is dropped.
std::string CollapseUnicodeWhitespace(std::string_view text);

// `text` without the code points Unicode classes as punctuation (P*: ASCII and curly quotes, dashes,
// the Ethiopic full stop, ...).
std::string StripPunctuation(std::string_view text);

// Whether one code point (as UTF-8) is a combining mark (general category M: U+0301 COMBINING ACUTE
// ACCENT, U+0323 COMBINING DOT BELOW, ...).
bool IsCombiningMark(std::string_view code_point);
// Code points in valid UTF-8 `text`.
int CodePointCount(std::string_view text);

// "U+1EB9 LATIN SMALL LETTER E WITH DOT BELOW" for one code point given as UTF-8 (for reports, where a
// combining mark on its own is invisible).
std::string DescribeCodePoint(std::string_view code_point);

}  // namespace ttsd::core
