// Failpoints: named places where a test can make the process die as `kill -9` would, at exactly that
// moment, to prove what survives (etcd's gofail, FoundationDB's buggify, in miniature). A failpoint fires
// when the environment variable TTSD_FAILPOINT lists it as `name:argument` (comma separated), e.g.
// `TTSD_FAILPOINT=checkpoint-before-sidecar:ckpt-000000020.pt`. Unset (always, outside tests) it costs one
// cached getenv. Thread-safe.
#pragma once

#include <string_view>

namespace ttsd::core {

// SIGKILLs this process when TTSD_FAILPOINT lists `name:argument`.
void Failpoint(std::string_view name, std::string_view argument);

}  // namespace ttsd::core
