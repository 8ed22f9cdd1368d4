// `ttsd import piper|vits SOURCE [--config THEIR.json] --out OUT.pt`: a voice trained by another tool
// becomes an ordinary ttsd checkpoint (core/interop/vits_import.h), usable by `ttsd synthesize`, as a
// fine-tune's finetune.pretrained_model_path, and by the daemon.
#include <cstdio>

#include "core/interop/vits_import.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {
namespace {

int RunImport(const core::interop::ImportOptions& opt) {
  auto report = core::interop::ImportVoice(opt);
  if (!report.ok()) {
    const int code = ReportError(report.status());
    // A file that is not what --from says, or a layout ttsd cannot hold, is the user's input: exit 2.
    return absl::IsInvalidArgument(report.status()) || absl::IsFailedPrecondition(report.status()) ? kExitBadConfig : code;
  }
  std::printf("%s", report->ToString().c_str());
  return kExitOk;
}

}  // namespace

void RegisterImportCommands(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<core::interop::ImportOptions>();
  auto* import = app.add_subcommand("import",
                                    "Import a voice trained by another tool (Piper's .ckpt) as a ttsd checkpoint: "
                                    "synthesize with it or fine-tune from it");
  import->add_option("format", opt->format, "What wrote the source: piper")
      ->required()
      ->check(CLI::IsMember({"piper", "coqui", "vits"}));
  import->add_option("source", opt->source, "The source checkpoint (Piper: a Lightning .ckpt)")
      ->required()
      ->check(CLI::ExistingFile);
  import->add_option("--config", opt->config,
                     "The source's JSON config (Piper: the training folder's config.json or the voice's .onnx.json; "
                     "default: config.json beside the checkpoint or in a folder above it)")
      ->check(CLI::ExistingFile);
  import->add_option("--out", opt->out, "The ttsd checkpoint to write (and its .sha256)")->required();
  import->callback([opt, exit_code] { *exit_code = RunImport(*opt); });
}

}  // namespace ttsd::server
