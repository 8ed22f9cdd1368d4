#include "core/data/problems.h"

#include "absl/strings/str_cat.h"

namespace ttsd::core {

const char* ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kBadLine: return "bad-line";
    case ProblemKind::kBadEncoding: return "bad-encoding";
    case ProblemKind::kDuplicateId: return "duplicate-id";
    case ProblemKind::kMissingAudio: return "missing-audio";
    case ProblemKind::kUnreadableAudio: return "unreadable-audio";
    case ProblemKind::kEmptyAudio: return "empty-audio";
    case ProblemKind::kMultiChannel: return "multi-channel";
    case ProblemKind::kClipping: return "clipping";
    case ProblemKind::kSilent: return "silent";
    case ProblemKind::kTooShort: return "too-short";
    case ProblemKind::kTooLong: return "too-long";
    case ProblemKind::kEmptyText: return "empty-text";
    case ProblemKind::kTextTooLong: return "text-too-long";
    case ProblemKind::kUnknownSymbols: return "unknown-symbols";
  }
  return "unknown";
}

std::string DataProblem::ToString() const {
  return absl::StrCat(where, ": ", ProblemKindName(kind), ": ", id.empty() ? "" : id + ": ", message);
}

}  // namespace ttsd::core
