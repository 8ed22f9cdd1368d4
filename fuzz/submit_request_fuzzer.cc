// SubmitJob's request handling on arbitrary bytes: the protobuf request, the config checks the daemon
// runs before it queues anything (size, YAML, every field, the allowed roots), and the resolved config
// it would store. Any input is accepted or refused with a status, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include "server/api/allowed_roots.h"
#include "server/api/submission.h"
#include "ttsd/v1/ttsd.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ttsd::v1::SubmitJobRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;
  static const std::string dir = std::filesystem::temp_directory_path().string();
  auto parsed = ttsd::server::api::CheckSubmission(req.config_yaml(), req.config_dir().empty() ? dir : req.config_dir());
  if (!parsed.ok()) return 0;
  static const ttsd::server::api::AllowedRoots roots({dir});
  (void)ttsd::server::api::CheckConfigPaths(parsed->config, roots);
  if (ttsd::core::EmitConfigYaml(parsed->config).empty()) std::abort();
  return 0;
}
