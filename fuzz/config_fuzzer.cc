// The YAML config parser and validator on arbitrary text: any input gives a config or errors, never a
// crash, a hang or undefined behaviour; a config that parses emits YAML that parses to the same YAML.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/config/config_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  auto parsed = ttsd::core::LoadConfigText(yaml, "<fuzz>", "/nonexistent");
  if (!parsed.ok()) return 0;
  const std::string emitted = ttsd::core::EmitConfigYaml(parsed->config);
  auto again = ttsd::core::ParseConfigYaml(emitted, "<emitted>");
  if (!again.ok() || ttsd::core::EmitConfigYaml(again->config) != emitted) std::abort();
  return 0;
}
