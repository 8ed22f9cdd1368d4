// Include spdlog through this header only. LibTorch 2.x forces C++20, where Debian 12's spdlog 1.10
// still names fmt 8's `fmt::basic_runtime`, which fmt 9 renamed to `runtime_format_string`. The alias
// below lets the same spdlog build in both C++17 (LibTorch 1.13) and C++20 (LibTorch 2.x).
#pragma once

#include <fmt/core.h>

#if FMT_VERSION >= 90000 && __cplusplus >= 202002L
namespace fmt {
template <typename Char>
using basic_runtime = runtime_format_string<Char>;
}  // namespace fmt
#endif

#include <spdlog/spdlog.h>
