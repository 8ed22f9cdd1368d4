#include "core/text/symbols.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "core/common/file_util.h"
#include "core/common/status.h"
#include "core/text/utf8.h"

namespace ttsd::core {
namespace {

constexpr const char* kPad = "_";
constexpr const char* kPunctuation = " !'\"(),-.:;?¡¿—…«»“”";
constexpr const char* kLower = "abcdefghijklmnopqrstuvwxyz";
constexpr const char* kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
// IPA letters, suprasegmentals, tone letters and the diacritics espeak-ng emits.
constexpr const char* kIpa =
    "abcdefhijklmnopqrstuvwxyz"
    "ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢǀǁǂǃ"
    "ˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘ᵻ"
    "˥˦˧˨˩"
    "\u0303\u0329\u032a\u032f\u0306\u0361";

void AppendCodePoints(const char* chars, std::vector<std::string>* out) {
  std::vector<std::string> cps;
  SplitUtf8(chars, &cps);
  out->insert(out->end(), cps.begin(), cps.end());
}

}  // namespace

SymbolTable SymbolTable::Default(const TextConfig& config) {
  std::vector<std::string> symbols{kPad};
  AppendCodePoints(kPunctuation, &symbols);
  if (config.mode == "phonemes") {
    AppendCodePoints(kIpa, &symbols);
  } else {
    AppendCodePoints(kLower, &symbols);
    if (!config.lowercase) AppendCodePoints(kUpper, &symbols);
  }
  return *FromList(std::move(symbols));
}

absl::StatusOr<SymbolTable> SymbolTable::FromList(std::vector<std::string> symbols) {
  if (symbols.empty() || symbols[0] != kPad) {
    return absl::InvalidArgumentError("a symbol table must start with the pad symbol \"_\"");
  }
  SymbolTable t;
  for (size_t i = 0; i < symbols.size(); ++i) {
    std::vector<std::string> cps;
    if (!SplitUtf8(symbols[i], &cps) || cps.size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("symbol #", i, " '", symbols[i], "' must be exactly one Unicode code point"));
    }
    if (!t.ids_.emplace(symbols[i], static_cast<int>(i)).second) {
      return absl::InvalidArgumentError(absl::StrCat("symbol '", symbols[i], "' appears twice"));
    }
  }
  t.symbols_ = std::move(symbols);
  return t;
}

absl::StatusOr<SymbolTable> SymbolTable::FromJson(const std::string& json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("symbols") || !j["symbols"].is_array()) {
    return absl::InvalidArgumentError(R"(symbol table must be JSON like {"symbols": ["_", "a", ...]})");
  }
  std::vector<std::string> symbols;
  for (const auto& s : j["symbols"]) {
    if (!s.is_string()) return absl::InvalidArgumentError("every symbol must be a JSON string");
    symbols.push_back(s.get<std::string>());
  }
  return FromList(std::move(symbols));
}

absl::StatusOr<SymbolTable> SymbolTable::Load(const std::string& path) {
  TTSD_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto t = FromJson(text);
  if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", t.status().message()));
  return t;
}

absl::StatusOr<SymbolTable> SymbolTable::ForConfig(const TextConfig& config) {
  if (!config.symbols_file.empty()) return Load(config.symbols_file);
  return Default(config);
}

std::string SymbolTable::ToJson() const {
  nlohmann::json j;
  j["symbols"] = symbols_;
  return j.dump(1) + "\n";
}

int SymbolTable::Id(std::string_view symbol) const {
  auto it = ids_.find(std::string(symbol));
  return it == ids_.end() ? -1 : it->second;
}

}  // namespace ttsd::core
