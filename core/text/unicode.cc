#include "core/text/unicode.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace ttsd::core {
namespace {

const icu::Normalizer2* NormalizerFor(std::string_view form, UErrorCode* status) {
  if (form == "nfc") return icu::Normalizer2::getNFCInstance(*status);
  if (form == "nfd") return icu::Normalizer2::getNFDInstance(*status);
  if (form == "nfkc") return icu::Normalizer2::getNFKCInstance(*status);
  if (form == "nfkd") return icu::Normalizer2::getNFKDInstance(*status);
  return nullptr;
}

icu::UnicodeString FromUtf8(std::string_view text) {
  return icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
}

std::string ToUtf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

// Calls keep(c) for each code point of valid UTF-8 `text`; appends the kept ones.
template <class Keep>
std::string Filter(std::string_view text, Keep keep) {
  std::string out;
  int32_t i = 0;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t n = static_cast<int32_t>(text.size());
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (keep(c, &out)) out.append(text.substr(static_cast<size_t>(start), static_cast<size_t>(i - start)));
  }
  return out;
}

UChar32 FirstCodePoint(std::string_view text) {
  int32_t i = 0;
  UChar32 c = 0;
  if (!text.empty()) U8_NEXT(reinterpret_cast<const uint8_t*>(text.data()), i, static_cast<int32_t>(text.size()), c);
  return c;
}

}  // namespace

bool IsUnicodeForm(std::string_view form) { return form == "nfc" || form == "nfd" || form == "nfkc" || form == "nfkd"; }

absl::StatusOr<std::string> NormalizeUnicode(std::string_view text, std::string_view form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = NormalizerFor(form, &status);
  if (n == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown Unicode normalisation form '", std::string(form), "'"));
  if (U_FAILURE(status)) return absl::InternalError(absl::StrCat("ICU ", std::string(form), ": ", u_errorName(status)));
  icu::UnicodeString out = n->normalize(FromUtf8(text), status);
  if (U_FAILURE(status)) return absl::InternalError(absl::StrCat("ICU ", std::string(form), ": ", u_errorName(status)));
  return ToUtf8(out);
}

std::string LowercaseFor(std::string_view text, std::string_view language) {
  UErrorCode status = U_ZERO_ERROR;
  icu::Locale locale = icu::Locale::forLanguageTag(icu::StringPiece(language.data(), static_cast<int32_t>(language.size())), status);
  if (U_FAILURE(status)) locale = icu::Locale::getRoot();
  return ToUtf8(FromUtf8(text).toLower(locale));
}

std::string CollapseUnicodeWhitespace(std::string_view text) {
  bool pending = false;
  return Filter(text, [&](UChar32 c, std::string* out) {
    if (u_isUWhiteSpace(c)) {
      pending = !out->empty();
      return false;
    }
    if (pending) out->push_back(' ');
    pending = false;
    return true;
  });
}

std::string StripPunctuation(std::string_view text) {
  return Filter(text, [](UChar32 c, std::string*) { return !u_ispunct(c); });
}

bool IsCombiningMark(std::string_view code_point) {
  return (U_GET_GC_MASK(FirstCodePoint(code_point)) & U_GC_M_MASK) != 0;
}

int CodePointCount(std::string_view text) {
  return static_cast<int>(std::count_if(text.begin(), text.end(), [](char b) { return (b & 0xC0) != 0x80; }));
}

std::string DescribeCodePoint(std::string_view code_point) {
  const UChar32 c = FirstCodePoint(code_point);
  char hex[16];
  std::snprintf(hex, sizeof(hex), "U+%04X", static_cast<unsigned>(c));
  char name[256];
  UErrorCode status = U_ZERO_ERROR;
  int32_t len = u_charName(c, U_UNICODE_CHAR_NAME, name, sizeof(name), &status);
  if (U_FAILURE(status) || len <= 0) return hex;
  return absl::StrCat(hex, " ", std::string(name, static_cast<size_t>(len)));
}

}  // namespace ttsd::core
