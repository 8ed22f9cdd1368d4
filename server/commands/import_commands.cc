// `ttsd import piper|vits|coqui SOURCE [--config THEIR.json] [--discriminator D.pth] --out OUT.pt`: a voice trained by another tool
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
                                    "Import a voice trained by another tool (Piper's .ckpt, the VITS authors' G_*.pth, Coqui TTS's .pth) as "
                                    "a ttsd checkpoint: "
                                    "synthesize with it or fine-tune from it");
  import->add_option("format", opt->format, "What wrote the source: piper (a Lightning .ckpt), vits (the authors' G_*.pth) or coqui "
                                            "(Coqui TTS's best_model.pth / checkpoint_N.pth)")
      ->required()
      ->check(CLI::IsMember({"piper", "coqui", "vits"}));
  import->add_option("source", opt->source, "The source checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  import->add_option("--config", opt->config,
                     "The source's JSON config (piper: the training folder's config.json or the voice's .onnx.json; vits: "
                     "the run's config.json; coqui: its checkpoint carries one; default: config.json beside the checkpoint, "
                     "or for piper in a folder above)")
      ->check(CLI::ExistingFile);
  import->add_option("--discriminator", opt->discriminator,
                     "vits: the D_*.pth saved with G_*.pth, so a fine-tune keeps the trained discriminators")
      ->check(CLI::ExistingFile);
  import->add_option("--out", opt->out, "The ttsd checkpoint to write (and its .sha256)")->required();
  import->add_option("--finetune-config", opt->finetune_config,
                     "Also write a fine-tune config that starts from the imported voice (its model and audio "
                     "sections; set data.path)");
  import->callback([opt, exit_code] { *exit_code = RunImport(*opt); });
}

}  // namespace ttsd::server
