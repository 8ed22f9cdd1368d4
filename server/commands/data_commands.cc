// `ttsd data check`, `ttsd data prepare` and `ttsd data symbols`.
#include <cstdio>

#include "core/common/file_util.h"
#include "core/data/dataset.h"
#include "core/data/sampler.h"
#include "core/data/symbol_inventory.h"
#include "core/text/unicode.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

struct DataOptions {
  std::string config;
  int threads = 0;
  std::string out;  // data symbols: the table's file
  int rare = 3;     // data symbols: fewer occurrences than this are flagged
};

// The symbols the data uses under the config's text settings, with counts; rare ones flagged with
// where they first occur. --out writes them as a table for text.symbols_file.
int RunSymbols(const DataOptions& opt) {
  int code = kExitOk;
  core::LoadOptions load;
  load.symbols_file_may_be_missing = true;  // this command writes it
  auto parsed = LoadConfigOrReport(opt.config, &code, load);
  if (!parsed) return code;
  const core::TrainConfig& cfg = parsed->config;
  auto tokenizer = core::Tokenizer::Create(cfg.text, core::SymbolTable::Default(cfg.text));
  if (!tokenizer.ok()) return ReportError(tokenizer.status());
  auto inv = core::CountSymbols(cfg, **tokenizer);
  if (!inv.ok()) return ReportError(inv.status());
  std::printf("%zu distinct symbols, %lld in all, in %zu texts (text.mode %s, unicode_form %s, language %s)\n",
              inv->symbols.size(), static_cast<long long>(inv->total), inv->texts, cfg.text.mode.c_str(),
              cfg.text.unicode_form.c_str(), cfg.text.language.c_str());
  std::printf("%9s  %-6s %s\n", "count", "symbol", "code point");  // ASCII: bytes are columns
  size_t rare = 0;
  for (const auto& c : inv->symbols) {
    const bool is_rare = c.count < opt.rare;
    rare += is_rare ? 1 : 0;
    // A combining mark is shown on a dotted circle, as Unicode charts do, so that it is visible.
    const std::string shown = c.symbol == " " ? "' '" : core::IsCombiningMark(c.symbol) ? "\u25CC" + c.symbol : c.symbol;
    std::printf("%9lld  %s%*s %s%s\n", static_cast<long long>(c.count), shown.c_str(),
                6 - core::CodePointCount(shown) + (core::IsCombiningMark(c.symbol) ? 1 : 0), "",
                core::DescribeCodePoint(c.symbol).c_str(),
                is_rare ? ("   RARE: first at " + c.first_seen).c_str() : "");
  }
  for (const auto& f : inv->failures) std::printf("skipped %s\n", f.c_str());
  if (rare > 0) {
    std::printf("%zu rare symbol(s) (fewer than %d occurrences): check those lines for typos or foreign text "
                "before training on them\n", rare, opt.rare);
  }
  if (!opt.out.empty()) {
    auto table = core::TableFrom(*inv);
    if (!table.ok()) return ReportError(table.status());
    if (auto st = core::WriteFileAtomic(opt.out, table->ToJson()); !st.ok()) return ReportError(st);
    std::printf("%s: %d symbols (with the pad \"_\"); set text.symbols_file: %s\n", opt.out.c_str(), table->size(),
                opt.out.c_str());
  }
  return kExitOk;
}

int RunData(const DataOptions& opt, bool features) {
  int code = kExitOk;
  auto parsed = LoadConfigOrReport(opt.config, &code);
  if (!parsed) return code;
  const core::TrainConfig& cfg = parsed->config;
  ConfigureThreads(opt.threads, 1);  // feature extraction parallelises over files, not inside the FFT
  auto tokenizer = core::Tokenizer::ForConfig(cfg.text);
  if (!tokenizer.ok()) return ReportError(tokenizer.status());
  core::PrepareOptions options;
  options.compute_features = features;
  auto ds = core::PrepareDataset(cfg, **tokenizer, options);
  if (!ds.ok()) return ReportError(ds.status());
  std::printf("%s", core::FormatDatasetReport(*ds, cfg).c_str());
  if (features) {
    std::vector<int64_t> frames;
    for (size_t i : ds->train) frames.push_back(ds->utterances[i].frames);
    core::BucketSampler sampler(frames, cfg.batch, cfg.seed);
    auto batches = sampler.EpochBatches(0);
    int64_t real = 0, padded = 0;
    for (const auto& b : batches) {
      int64_t longest = 0;
      for (size_t i : b) {
        real += frames[i];
        longest = std::max(longest, frames[i]);
      }
      padded += longest * static_cast<int64_t>(b.size());
    }
    std::printf("Batches  %zu per epoch (%s), %.1f%% of padded frames are real audio\n", batches.size(),
                cfg.batch.size > 0 ? ("size " + std::to_string(cfg.batch.size)).c_str()
                                   : ("max_frames " + std::to_string(cfg.batch.max_frames)).c_str(),
                padded > 0 ? 100.0 * real / padded : 0.0);
  }
  if (auto st = core::EnforceDataPolicy(*ds, cfg.data); !st.ok()) return ReportError(st);
  std::printf("OK: %zu usable utterances\n", ds->utterances.size());
  return kExitOk;
}

}  // namespace

void RegisterDataCommands(CLI::App& app, int* exit_code) {
  auto* data = app.add_subcommand("data", "Check a dataset or precompute its features");
  data->require_subcommand(1);
  auto opt = std::make_shared<DataOptions>();

  auto* check = data->add_subcommand("check", "Read every entry once and print the dataset report");
  check->add_option("--config", opt->config, "Training config (YAML)")->required();
  check->add_option("--threads", opt->threads, "LibTorch threads");
  check->callback([opt, exit_code] { *exit_code = RunData(*opt, /*features=*/false); });

  auto* prepare = data->add_subcommand("prepare", "Check, then fill the feature cache (mel + symbol ids)");
  prepare->add_option("--config", opt->config, "Training config (YAML)")->required();
  prepare->add_option("--threads", opt->threads, "LibTorch threads");
  prepare->callback([opt, exit_code] { *exit_code = RunData(*opt, /*features=*/true); });

  auto* symbols = data->add_subcommand("symbols", "Count the symbols the data's text uses; --out writes them as a "
                                                  "symbol table (text.symbols_file)");
  symbols->add_option("--config", opt->config, "Training config (YAML)")->required();
  symbols->add_option("--out", opt->out, "Write the symbol table (JSON) here");
  symbols->add_option("--rare", opt->rare, "Flag symbols with fewer occurrences than this (default 3)")
      ->check(CLI::NonNegativeNumber);
  symbols->callback([opt, exit_code] { *exit_code = RunSymbols(*opt); });
}

}  // namespace ttsd::server
