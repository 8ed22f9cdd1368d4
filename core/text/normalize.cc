#include "core/text/normalize.h"

#include <cctype>
#include <regex>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ttsd::core {
namespace {

const char* kOnes[] = {"zero",    "one",     "two",       "three",    "four",     "five",    "six",
                       "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
                       "fourteen", "fifteen", "sixteen",  "seventeen", "eighteen", "nineteen"};
const char* kTens[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

std::string Below1000(uint64_t n) {
  std::string out;
  if (n >= 100) {
    out = absl::StrCat(kOnes[n / 100], " hundred");
    n %= 100;
    if (n == 0) return out;
    out += " ";
  }
  if (n < 20) return out + kOnes[n];
  out += kTens[n / 10];
  if (n % 10) absl::StrAppend(&out, "-", kOnes[n % 10]);
  return out;
}

struct Abbreviation {
  const char* abbr;
  const char* word;
};
const Abbreviation kAbbreviations[] = {
    {"mr", "mister"},     {"mrs", "missus"},   {"ms", "miss"},      {"dr", "doctor"},
    {"st", "saint"},      {"co", "company"},   {"jr", "junior"},    {"sr", "senior"},
    {"maj", "major"},     {"gen", "general"},  {"drs", "doctors"},  {"rev", "reverend"},
    {"lt", "lieutenant"}, {"hon", "honorable"}, {"sgt", "sergeant"}, {"capt", "captain"},
    {"esq", "esquire"},   {"ltd", "limited"},  {"col", "colonel"},  {"ft", "fort"},
    {"prof", "professor"}, {"vs", "versus"},   {"etc", "et cetera"}, {"approx", "approximately"},
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string DigitsOnly(const std::string& s) {
  std::string d;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c))) d.push_back(c);
  }
  return d;
}

// Numbers too long for words are read digit by digit.
std::string ReadInteger(const std::string& digits) {
  if (digits.size() > 15) {
    std::string out;
    for (char c : digits) absl::StrAppend(&out, out.empty() ? "" : " ", kOnes[c - '0']);
    return out;
  }
  return NumberToWords(std::stoull(digits));
}

template <class Fn>
std::string ReplaceAll(const std::string& text, const std::regex& re, Fn fn) {
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), re);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out.append(text, last, it->position() - last);
    out += fn(*it);
    last = it->position() + it->length();
  }
  out.append(text, last, std::string::npos);
  return out;
}

std::string NormalizeEnglish(std::string text) {
  static const std::regex kAbbr(R"(\b([A-Za-z]+)\.)");
  text = ReplaceAll(text, kAbbr, [](const std::smatch& m) {
    std::string lower = AsciiLower(m[1].str());
    for (const auto& a : kAbbreviations) {
      if (lower == a.abbr) return std::string(a.word);
    }
    return m[0].str();
  });
  static const std::regex kMoney(R"(([$£€])(\d[\d,]*)(?:\.(\d\d))?)");
  text = ReplaceAll(text, kMoney, [](const std::smatch& m) {
    std::string whole = DigitsOnly(m[2].str());
    std::string unit = m[1] == "$" ? "dollar" : m[1] == "£" ? "pound" : "euro";
    std::string out = absl::StrCat(ReadInteger(whole), " ", unit, whole == "1" ? "" : "s");
    if (m[3].matched && m[3].str() != "00") {
      uint64_t cents = std::stoull(m[3].str());
      absl::StrAppend(&out, " and ", NumberToWords(cents), cents == 1 ? " cent" : " cents");
    }
    return out;
  });
  static const std::regex kOrdinal(R"(\b(\d+)(st|nd|rd|th)\b)");
  text = ReplaceAll(text, kOrdinal, [](const std::smatch& m) {
    return m[1].length() > 15 ? m[0].str() : OrdinalToWords(std::stoull(m[1].str()));
  });
  static const std::regex kDecimal(R"((\d[\d,]*)\.(\d+))");
  text = ReplaceAll(text, kDecimal, [](const std::smatch& m) {
    std::string out = absl::StrCat(ReadInteger(DigitsOnly(m[1].str())), " point");
    for (char c : m[2].str()) absl::StrAppend(&out, " ", kOnes[c - '0']);
    return out;
  });
  static const std::regex kInteger(R"(\d[\d,]*\d|\d)");
  text = ReplaceAll(text, kInteger, [](const std::smatch& m) { return ReadInteger(DigitsOnly(m[0].str())); });
  static const std::regex kPercent(R"(\s*%)");
  text = std::regex_replace(text, kPercent, " percent");
  static const std::regex kAmpersand(R"(\s*&\s*)");
  text = std::regex_replace(text, kAmpersand, " and ");
  return text;
}

}  // namespace

std::string NumberToWords(uint64_t n) {
  if (n < 1000) return Below1000(n);
  static const char* kScales[] = {"", " thousand", " million", " billion", " trillion", " quadrillion",
                                  " quintillion"};
  std::vector<std::string> parts;
  for (int scale = 0; n > 0; ++scale, n /= 1000) {
    if (n % 1000) parts.push_back(Below1000(n % 1000) + kScales[scale]);
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) absl::StrAppend(&out, out.empty() ? "" : " ", *it);
  return out;
}

std::string OrdinalToWords(uint64_t n) {
  std::string w = NumberToWords(n);
  struct Irregular {
    const char* cardinal;
    const char* ordinal;
  };
  static const Irregular kIrregular[] = {{"one", "first"},   {"two", "second"}, {"three", "third"},
                                         {"five", "fifth"},  {"eight", "eighth"}, {"nine", "ninth"},
                                         {"twelve", "twelfth"}};
  for (const auto& irr : kIrregular) {
    if (EndsWith(w, irr.cardinal)) {
      size_t cut = w.size() - std::string_view(irr.cardinal).size();
      // Only whole words: "one" in "twenty-one", not in "none".
      if (cut == 0 || w[cut - 1] == ' ' || w[cut - 1] == '-') return w.substr(0, cut) + irr.ordinal;
    }
  }
  if (EndsWith(w, "y")) return w.substr(0, w.size() - 1) + "ieth";
  return w + "th";
}

std::string CollapseWhitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string NormalizeText(std::string_view text, std::string_view language) {
  std::string s(text);
  if (language.substr(0, 2) == "en") s = NormalizeEnglish(std::move(s));
  return CollapseWhitespace(s);
}

}  // namespace ttsd::core
