#include "server/daemon/worker_group.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ttsd::server::daemon {

using Outcome = ttsd::v1::WorkerFinished::Outcome;

const std::vector<std::string>& LauncherVariables() {
  static const auto* names = new std::vector<std::string>{
      "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "GROUP_RANK",
      "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"};
  return *names;
}

absl::StatusOr<int> PickLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("no free TCP port on 127.0.0.1: ", std::strerror(err)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

absl::StatusOr<std::unique_ptr<WorkerGroup>> WorkerGroup::Spawn(const std::vector<std::string>& argv,
                                                                const std::vector<std::string>& devices,
                                                                const std::string& log_path, int nice) {
  const int n = static_cast<int>(devices.size());
  int port = 0;
  if (n > 1) {
    auto picked = PickLoopbackPort();
    if (!picked.ok()) return picked.status();
    port = *picked;
  }
  std::unique_ptr<WorkerGroup> group(new WorkerGroup());
  for (int r = 0; r < n; ++r) {
    std::vector<std::string> rank_argv = argv;
    rank_argv.push_back("--device");
    rank_argv.push_back(devices[r]);
    std::vector<std::string> vars;
    if (n > 1) {
      vars = {absl::StrCat("RANK=", r),         absl::StrCat("WORLD_SIZE=", n),     absl::StrCat("LOCAL_RANK=", r),
              absl::StrCat("LOCAL_WORLD_SIZE=", n), "MASTER_ADDR=127.0.0.1", absl::StrCat("MASTER_PORT=", port)};
    }
    auto process = WorkerProcess::Spawn(rank_argv, EnvironmentWith(LauncherVariables(), vars), log_path, nice);
    if (!process.ok()) {
      group->KillAll();  // the ranks already started would wait for this one until their timeout
      for (auto& started : group->ranks_) started.process->Wait();
      return absl::Status(process.status().code(),
                          n > 1 ? absl::StrCat("rank ", r, ": ", process.status().message()) : process.status().message());
    }
    group->ranks_.emplace_back();
    group->ranks_.back().process = std::move(*process);
  }
  return group;
}

WorkerGroup::~WorkerGroup() = default;

std::vector<pid_t> WorkerGroup::pids() const {
  std::vector<pid_t> out;
  for (const auto& r : ranks_) out.push_back(r.process->pid());
  return out;
}

void WorkerGroup::Signal(int sig) {
  absl::MutexLock lock(&mu_);
  for (auto& r : ranks_) {
    if (!r.reaping) r.process->Signal(sig);
  }
}

void WorkerGroup::SignalLead(int sig) {
  absl::MutexLock lock(&mu_);
  if (!ranks_[0].reaping) ranks_[0].process->Signal(sig);
}

void WorkerGroup::KillAll() {
  absl::MutexLock lock(&mu_);
  for (auto& r : ranks_) {
    if (!r.reaping) r.process->KillGroup();
  }
}

void WorkerGroup::SetFinished(int rank, const ttsd::v1::WorkerFinished& finished) {
  absl::MutexLock lock(&mu_);
  ranks_[rank].finished = finished;
}

bool WorkerGroup::Reap(int rank) {
  Rank& r = ranks_[rank];
  {
    absl::MutexLock lock(&mu_);
    // Until it is reaped its pid cannot be reused, so the group id still names its group alone.
    r.process->KillGroup();
    r.reaping = true;
  }
  const int status = r.process->Wait();
  absl::MutexLock lock(&mu_);
  r.wait_status = status;
  if (!ExitedCleanly(status)) {
    if (first_failed_ < 0) first_failed_ = rank;
    // The others would only wait in a collective for the dead rank until their timeout.
    for (auto& other : ranks_) {
      if (!other.reaping) other.process->KillGroup();
    }
  }
  return ++reaped_ == size();
}

GroupExit WorkerGroup::Exit() {
  absl::MutexLock lock(&mu_);
  GroupExit exit;
  exit.clean = first_failed_ < 0;
  if (!exit.clean) {  // the rank that failed first: the others were killed for it
    const std::string status = DescribeWaitStatus(ranks_[first_failed_].wait_status);
    exit.how = size() > 1 ? absl::StrCat("rank ", first_failed_, ": ", status) : status;
  }
  for (int i = 0; i < size(); ++i) {
    const Rank& r = ranks_[i];
    if (!exit.finished && r.finished) {
      // Rank 0 speaks for the job; another rank's report counts when it explains a failure (an error in
      // its share of the data, say) and rank 0 had nothing to say, having been killed for it.
      const Outcome o = r.finished->outcome();
      if (i == 0 || o == ttsd::v1::WorkerFinished::OUTCOME_ERROR || o == ttsd::v1::WorkerFinished::OUTCOME_DISK_FULL ||
          o == ttsd::v1::WorkerFinished::OUTCOME_NON_FINITE_LOSS) {
        exit.finished = r.finished;
      }
    }
  }
  return exit;
}

}  // namespace ttsd::server::daemon
