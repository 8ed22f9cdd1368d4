// The pickle machine of `ttsd import` (core/interop/pickle.h) on arbitrary bytes: a checkpoint's data.pkl
// from anywhere (a damaged download, a hostile file) gives values or a clear error, never a crash, a
// leak (cycles are refused and freed) or a deep recursion.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/interop/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto value = ttsd::core::interop::ParsePickle(std::string_view(reinterpret_cast<const char*>(data), size));
  if (value.ok()) {
    (void)(*value)->Describe();
    (void)(*value)->Get("state_dict");
  }
  return 0;
}
