// English text normalisation before phonemization: numbers, currency, ordinals, percentages and common
// abbreviations become words; whitespace is collapsed. Text in other languages passes through with only
// whitespace collapsed (espeak-ng reads numbers itself in its own languages). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ttsd::core {

std::string NormalizeText(std::string_view text, std::string_view language);
std::string NumberToWords(uint64_t n);          // 42 -> "forty-two"
std::string OrdinalToWords(uint64_t n);         // 42 -> "forty-second"
std::string CollapseWhitespace(std::string_view text);
std::string AsciiLower(std::string_view text);  // leaves non-ASCII bytes alone

}  // namespace ttsd::core
