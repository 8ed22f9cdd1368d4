#include "server/daemon/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace ttsd::server::daemon {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Between fork and exec only async-signal-safe calls: everything is prepared before the fork.
[[noreturn]] void ExecChild(char* const* argv, char* const* envp, int pipe_w, int log_fd, pid_t daemon_pid, int nice, int max_fd) {
  ::setpgid(0, 0);
  if (nice != 0) ::setpriority(PRIO_PROCESS, 0, ::getpriority(PRIO_PROCESS, 0) + nice);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != daemon_pid) ::_exit(127);  // the daemon died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the daemon blocks SIGTERM/SIGINT for its signal thread
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) ::sigaction(sig, &dfl, nullptr);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(127);
  if (pipe_w == kWorkerEventsFd) {
    ::fcntl(pipe_w, F_SETFD, 0);
  } else if (::dup2(pipe_w, kWorkerEventsFd) < 0) {
    ::_exit(127);
  }
  // gRPC's sockets, the database, other pipes. close_range needs Linux 5.9; older kernels get the loop.
  if (::syscall(SYS_close_range, kWorkerEventsFd + 1, ~0U, 0) != 0) {
    for (int fd = kWorkerEventsFd + 1; fd < max_fd; ++fd) ::close(fd);
  }
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerProcess>> WorkerProcess::Spawn(const std::vector<std::string>& argv,
                                                                    const std::vector<std::string>& env,
                                                                    const std::string& log_path, int nice) {
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Errno("cannot open " + log_path);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ::close(log_fd);
    return Errno("pipe");
  }
  const pid_t daemon_pid = ::getpid();
  const int max_fd = static_cast<int>(std::min<long>(::sysconf(_SC_OPEN_MAX), 1 << 20));
  pid_t pid = ::fork();
  if (pid == 0) ExecChild(cargv.data(), cenv.data(), fds[1], log_fd, daemon_pid, nice, max_fd);
  int fork_errno = errno;
  ::close(fds[1]);
  ::close(log_fd);
  if (pid < 0) {
    ::close(fds[0]);
    errno = fork_errno;
    return Errno("fork");
  }
  ::setpgid(pid, pid);  // also here, so the group exists whichever of the two runs first
  return std::unique_ptr<WorkerProcess>(new WorkerProcess(pid, fds[0]));
}

WorkerProcess::~WorkerProcess() {
  if (events_fd_ >= 0) ::close(events_fd_);
}

void WorkerProcess::Signal(int sig) const { ::kill(pid_, sig); }

void WorkerProcess::KillGroup() const { ::kill(-pid_, SIGKILL); }

int WorkerProcess::Wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

std::vector<std::string> EnvironmentWith(const std::vector<std::string>& drop, const std::vector<std::string>& add) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    if (std::find(drop.begin(), drop.end(), key) == drop.end()) env.emplace_back(kv);
  }
  env.insert(env.end(), add.begin(), add.end());
  return env;
}

std::string DescribeWaitStatus(int status) {
  if (status < 0) return "lost (waitpid failed)";
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = ::strsignal(sig);
    return absl::StrCat("killed by signal ", sig, " (", name ? name : "?", ")");
  }
  return absl::StrCat("wait status ", status);
}

bool ExitedCleanly(int status) { return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

}  // namespace ttsd::server::daemon
