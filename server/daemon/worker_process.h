// One job's worker process: `ttsd worker ...` started with fork/exec in a process group of its own (so a
// cancel can kill everything it started), with its events pipe on fd 3, stdout/stderr appended to a log
// file, and PDEATHSIG set so it never outlives the daemon.
//
// PDEATHSIG fires when the *thread* that forked exits, not the process: spawn from a thread that lives
// as long as the daemon (the scheduler's).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::server::daemon {

inline constexpr int kWorkerEventsFd = 3;

class WorkerProcess {
 public:
  // argv[0] is the executable; `env` is its whole environment ("KEY=value"). `log_path` receives the
  // worker's stdout and stderr (appended). `nice` is added to the worker's scheduling niceness.
  static absl::StatusOr<std::unique_ptr<WorkerProcess>> Spawn(const std::vector<std::string>& argv,
                                                              const std::vector<std::string>& env,
                                                              const std::string& log_path, int nice = 0);
  ~WorkerProcess();  // closes the pipe; does not kill or wait

  pid_t pid() const { return pid_; }
  int events_fd() const { return events_fd_; }  // the pipe's read end

  void Signal(int sig) const;  // to the worker itself
  void KillGroup() const;      // SIGKILL to its whole process group (the worker and anything it started)
  // Blocks until the worker exits; returns its wait status. Call once.
  int Wait();

 private:
  WorkerProcess(pid_t pid, int fd) : pid_(pid), events_fd_(fd) {}
  pid_t pid_;
  int events_fd_;
};

// This process's environment without the variables named in `drop`, then `add` ("KEY=value").
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& drop, const std::vector<std::string>& add);

// "exit code 3", "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status);
bool ExitedCleanly(int status);  // exit code 0

}  // namespace ttsd::server::daemon
