// A problem found in a dataset entry: what, where (file:line or audio path) and the kind, so reports can
// group them and the strict policy can fail on any.
#pragma once

#include <string>

namespace ttsd::core {

enum class ProblemKind {
  kBadLine,         // wrong column count, bad JSON, missing field
  kBadEncoding,     // text not valid UTF-8
  kDuplicateId,
  kMissingAudio,
  kUnreadableAudio,  // corrupt header, truncated, not audio
  kEmptyAudio,
  kMultiChannel,
  kClipping,
  kSilent,          // peak below -60 dBFS: an empty or failed recording
  kTooShort,
  kTooLong,
  kEmptyText,
  kTextTooLong,
  kUnknownSymbols,
};

const char* ProblemKindName(ProblemKind kind);  // "missing-audio", ...

struct DataProblem {
  ProblemKind kind;
  std::string where;    // "metadata.csv:12" (manifest line of the entry)
  std::string id;       // utterance id when known
  std::string message;  // what is wrong and, where useful, what to do
  std::string ToString() const;  // "metadata.csv:12: missing-audio: LJ001-0001: ..."
};

}  // namespace ttsd::core
