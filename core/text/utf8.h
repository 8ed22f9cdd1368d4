// Minimal UTF-8 handling: split into code points, rejecting malformed input; repair for display.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ttsd::core {

// Splits `text` into one string per code point. Returns false (and the byte offset of the first bad
// byte in *bad_offset) on malformed UTF-8, overlong forms or surrogates.
bool SplitUtf8(std::string_view text, std::vector<std::string>* out, size_t* bad_offset = nullptr);

// `text` with each byte that is not part of well-formed UTF-8 replaced by U+FFFD: for strings that
// must be UTF-8 downstream (protobuf string fields), e.g. a Latin-1 path in a log line.
std::string ToValidUtf8(std::string_view text);
// Whether `text` is valid UTF-8 (SplitUtf8 without the copies); *bad_offset as there.
bool IsValidUtf8(std::string_view text, size_t* bad_offset = nullptr);

}  // namespace ttsd::core
