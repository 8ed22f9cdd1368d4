#include "core/data/symbol_inventory.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/common/status.h"
#include "core/data/manifest.h"
#include "core/text/utf8.h"

namespace ttsd::core {

absl::StatusOr<SymbolInventory> CountSymbols(const TrainConfig& config, const Tokenizer& tokenizer) {
  TTSD_ASSIGN_OR_RETURN(Manifest manifest, ReadManifest(config.data));
  std::vector<std::pair<std::string, std::string>> texts;  // (where, text)
  for (const auto& u : manifest.utterances) texts.emplace_back(u.where, u.text);
  for (size_t i = 0; i < config.validation.sentences.size(); ++i) {
    texts.emplace_back(absl::StrCat("validation.sentences[", i, "]"), config.validation.sentences[i]);
  }
  SymbolInventory inv;
  std::map<std::string, SymbolCount> counts;
  std::vector<std::string> cps;
  for (const auto& [where, text] : texts) {
    auto tokenized = tokenizer.Encode(text);
    if (!tokenized.ok()) {
      inv.failures.push_back(absl::StrCat(where, ": ", tokenized.status().message()));
      continue;
    }
    ++inv.texts;
    SplitUtf8(tokenized->symbols, &cps);
    for (const auto& cp : cps) {
      if (cp == "_") continue;  // the pad and blank symbol: id 0 in every table
      SymbolCount& c = counts[cp];
      if (c.count++ == 0) {
        c.symbol = cp;
        c.first_seen = where;
      }
      ++inv.total;
    }
  }
  for (auto& [cp, c] : counts) inv.symbols.push_back(std::move(c));
  std::stable_sort(inv.symbols.begin(), inv.symbols.end(),
                   [](const SymbolCount& a, const SymbolCount& b) { return a.count > b.count; });
  return inv;
}

absl::StatusOr<SymbolTable> TableFrom(const SymbolInventory& inventory) {
  std::vector<std::string> symbols;
  for (const auto& c : inventory.symbols) symbols.push_back(c.symbol);
  std::sort(symbols.begin(), symbols.end());  // UTF-8 byte order is code point order
  symbols.insert(symbols.begin(), "_");
  return SymbolTable::FromList(std::move(symbols));
}

}  // namespace ttsd::core
