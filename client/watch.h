// `ttsctl watch`: follows a job's event stream to its end. Progress as a live bar on a terminal (a line
// per event otherwise), validation results, checkpoints, state changes; validation audio saved under
// <samples_dir>/<job>/. A broken stream (daemon restart, dropped connection, or silence longer than the
// stall timeout, since a live daemon sends heartbeats) is resumed from the last seq seen. Ctrl-C detaches
// and leaves the job running.
#pragma once

#include <string>
#include <vector>

#include "client/connection.h"

namespace ttsd::client {

struct WatchOptions {
  bool json = false;                // one JobEvent per line
  std::string samples_dir = "samples";
  double stall_timeout_s = 30;
  uint64_t after_seq = 0;
  std::vector<ttsd::v1::EventKind> kinds;  // empty: all
  bool lines_only = false;          // `logs -f`: plain lines, no bar, no sample files
};

// Exit code: 0 when the job ends SUCCEEDED, 1 when it ends otherwise, others from Connection::Report.
int Watch(Connection& conn, uint64_t job_id, const WatchOptions& o);

}  // namespace ttsd::client
