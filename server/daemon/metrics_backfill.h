// Metric rows the daemon missed. A worker keeps training (into its job folder's metrics.jsonl) while the
// daemon is down, e.g. after a kill -9 it checkpoints on PDEATHSIG; when the job resumes from that
// checkpoint, the steps between the daemon's newest row and the checkpoint exist only in the file.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "server/store/store.h"

namespace ttsd::server::daemon {

// Adds rows for steps in (newest stored step, resume_step] from <job_dir>/metrics.jsonl (the last line
// for a step wins: it is the attempt that reached the checkpoint). Returns how many rows were added.
absl::StatusOr<int64_t> BackfillMetrics(store::Store& store, int64_t job_id, int64_t attempt,
                                        const std::string& job_dir, int64_t resume_step);

}  // namespace ttsd::server::daemon
