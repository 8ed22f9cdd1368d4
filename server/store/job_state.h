// The job state machine (DESIGN.md): the states, and the one table of legal transitions that every
// change of a job's state goes through (Store::Transition).
//
//   QUEUED -> STARTING -> RUNNING -> SUCCEEDED
//   RUNNING -stop-> STOPPING -> STOPPED -resume-> QUEUED
//   RUNNING -crash, restarts left-> RESTARTING -> QUEUED;  no restarts left -> FAILED(reason)
//   STARTING/RUNNING/STOPPING -daemon restart-> QUEUED (continues from the newest checkpoint)
//   any non-terminal -cancel-> CANCELLING -> CANCELLED;  FAILED -resume-> QUEUED (a retry)
#pragma once

#include <string>

namespace ttsd::server::store {

enum class JobState {
  kQueued,
  kStarting,
  kRunning,
  kStopping,
  kStopped,
  kRestarting,
  kSucceeded,
  kFailed,
  kCancelling,
  kCancelled,
};

// What the user asked for; the daemon moves `state` towards it.
enum class Desired { kRun, kStop, kCancel };

const char* JobStateName(JobState s);  // "QUEUED", ...
bool ParseJobState(const std::string& name, JobState* out);
const char* DesiredName(Desired d);
bool ParseDesired(const std::string& name, Desired* out);

bool IsTerminal(JobState s);  // SUCCEEDED, CANCELLED (FAILED can be resumed, so it is not)
bool TransitionAllowed(JobState from, JobState to);

}  // namespace ttsd::server::store
