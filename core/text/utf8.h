// Minimal UTF-8 handling: split into code points, rejecting malformed input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ttsd::core {

// Splits `text` into one string per code point. Returns false (and the byte offset of the first bad
// byte in *bad_offset) on malformed UTF-8, overlong forms or surrogates.
bool SplitUtf8(std::string_view text, std::vector<std::string>* out, size_t* bad_offset = nullptr);

}  // namespace ttsd::core
