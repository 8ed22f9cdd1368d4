// `ttsd text symbols` (write the symbol table a config uses) and `ttsd text phonemize` (show exactly
// which symbols and ids a sentence becomes).
#include <cstdio>

#include "core/common/file_util.h"
#include "core/text/tokenizer.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

struct TextOptions {
  std::string config;
  std::string out;
  std::string text;
};

int RunSymbols(const TextOptions& opt) {
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  auto symbols = core::SymbolTable::ForConfig(parsed->config.text);
  if (!symbols.ok()) return ReportError(symbols.status());
  if (opt.out.empty()) {
    std::printf("%s", symbols->ToJson().c_str());
    return kExitOk;
  }
  if (auto st = core::WriteFileAtomic(opt.out, symbols->ToJson()); !st.ok()) return ReportError(st);
  std::printf("%s: %d symbols (text.mode %s)\n", opt.out.c_str(), symbols->size(), parsed->config.text.mode.c_str());
  return kExitOk;
}

int RunPhonemize(const TextOptions& opt) {
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  auto tokenizer = core::Tokenizer::ForConfig(parsed->config.text);
  if (!tokenizer.ok()) return ReportError(tokenizer.status());
  auto r = (*tokenizer)->Encode(opt.text);
  if (!r.ok()) return ReportError(r.status());
  std::printf("normalized: %s\nsymbols:    %s\nids:       ", r->normalized.c_str(), r->symbols.c_str());
  for (int id : r->ids) std::printf(" %d", id);
  std::printf("\n");
  if (!r->unknown.empty()) {
    std::printf("unknown:   ");
    for (const auto& s : r->unknown) std::printf(" '%s'", s.c_str());
    std::printf("  (not in the symbol table; add them with text.symbols_file)\n");
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void RegisterTextCommands(CLI::App& app, int* exit_code) {
  auto* text = app.add_subcommand("text", "Inspect the text frontend");
  text->require_subcommand(1);
  auto opt = std::make_shared<TextOptions>();

  auto* symbols = text->add_subcommand("symbols", "Write the config's symbol table as JSON (stdout without --out)");
  symbols->add_option("--config", opt->config, "Training config (YAML)")->required();
  symbols->add_option("--out", opt->out, "Output file (use it as text.symbols_file to pin the table)");
  symbols->callback([opt, exit_code] { *exit_code = RunSymbols(*opt); });

  auto* phonemize = text->add_subcommand("phonemize", "Show the normalized text, symbols and ids for a sentence");
  phonemize->add_option("--config", opt->config, "Training config (YAML)")->required();
  phonemize->add_option("text", opt->text, "The sentence")->required();
  phonemize->callback([opt, exit_code] { *exit_code = RunPhonemize(*opt); });
}

}  // namespace ttsd::server
