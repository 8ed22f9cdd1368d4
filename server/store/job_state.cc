#include "server/store/job_state.h"

#include <array>
#include <initializer_list>

namespace ttsd::server::store {
namespace {

constexpr std::array<const char*, 10> kStateNames = {"QUEUED",    "STARTING",  "RUNNING", "STOPPING",   "STOPPED",
                                                     "RESTARTING", "SUCCEEDED", "FAILED",  "CANCELLING", "CANCELLED"};
constexpr std::array<const char*, 3> kDesiredNames = {"RUN", "STOP", "CANCEL"};

bool In(JobState s, std::initializer_list<JobState> set) {
  for (JobState x : set) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

const char* JobStateName(JobState s) { return kStateNames[static_cast<size_t>(s)]; }

bool ParseJobState(const std::string& name, JobState* out) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (name == kStateNames[i]) {
      *out = static_cast<JobState>(i);
      return true;
    }
  }
  return false;
}

const char* DesiredName(Desired d) { return kDesiredNames[static_cast<size_t>(d)]; }

bool ParseDesired(const std::string& name, Desired* out) {
  for (size_t i = 0; i < kDesiredNames.size(); ++i) {
    if (name == kDesiredNames[i]) {
      *out = static_cast<Desired>(i);
      return true;
    }
  }
  return false;
}

bool IsTerminal(JobState s) { return s == JobState::kSucceeded || s == JobState::kCancelled; }

bool TransitionAllowed(JobState from, JobState to) {
  using S = JobState;
  switch (from) {
    case S::kQueued:
      return In(to, {S::kStarting, S::kStopped, S::kCancelling});
    case S::kStarting:
    case S::kRunning:
      return In(to, {S::kRunning, S::kSucceeded, S::kFailed, S::kStopping, S::kRestarting, S::kCancelling, S::kQueued}) &&
             !(from == S::kRunning && to == S::kRunning);
    case S::kStopping:
      return In(to, {S::kStopped, S::kSucceeded, S::kFailed, S::kCancelling, S::kQueued});
    case S::kRestarting:
      return In(to, {S::kQueued, S::kFailed, S::kCancelling});
    case S::kStopped:
    case S::kFailed:
      return In(to, {S::kQueued, S::kCancelling});
    case S::kCancelling:
      return to == S::kCancelled;
    case S::kSucceeded:
    case S::kCancelled:
      return false;
  }
  return false;
}

}  // namespace ttsd::server::store
