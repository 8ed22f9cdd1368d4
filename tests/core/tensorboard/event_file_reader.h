// The test suite's own reader of TensorBoard event files: re-reads every TFRecord, checks both CRCs and
// decodes each Event. A truncated last record (a crash mid-write) is tolerated and reported; anything
// else that is wrong is an error.
#pragma once

#include <string>
#include <vector>

#include "tensorboard/event.pb.h"

namespace ttsd::testing {

struct EventFile {
  std::vector<ttsd::tensorboard::Event> events;
  bool truncated_tail = false;  // the last record stopped short
  std::string error;            // empty: every complete record was intact and decoded
};

EventFile ReadEventFile(const std::string& path);

// Every events.out.tfevents.* file in `dir`, in name (= creation) order.
std::vector<std::string> EventFilesIn(const std::string& dir);

}  // namespace ttsd::testing
