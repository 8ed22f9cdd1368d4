// `ttsd serve`: the daemon. Owns a data dir (SQLite store, job folders, the unix socket), runs queued
// jobs as worker processes on its devices, and serves ttsd.v1.TrainingService plus the standard health
// and reflection services.
//   ttsd serve [--data-dir DIR] [--listen unix:///PATH | tcp://HOST:PORT] [--token-file F]
//              [--tls-cert F --tls-key F [--tls-client-ca F]] [--insecure] [--devices cpu|cuda:0,...]
//              [--max-concurrent-jobs N] [--worker-threads N] [--cancel-grace S] [--heartbeat S]
// SIGINT / SIGTERM: stop serving, let every worker checkpoint, exit 0; the next start re-queues them.
#include <fcntl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/common/file_util.h"
#include "core/common/status.h"
#include "server/api/submission.h"
#include "server/api/training_service.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"
#include "server/daemon/job_manager.h"
#include "spdlog/spdlog.h"

namespace ttsd::server {
namespace {

struct ServeOptions {
  std::string data_dir;
  std::string jobs_dir;
  std::vector<std::string> allowed_roots;  // default: the data dir, the jobs dir and $HOME
  std::string listen;
  std::string token_file;
  std::string tls_cert, tls_key, tls_client_ca;
  bool insecure = false;
  std::string devices = "cpu";
  int max_concurrent_jobs = 1;
  int worker_threads = 0;
  int worker_nice = 5;
  double cancel_grace_s = 30;
  double heartbeat_s = 5;
};

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "ttsd";
}

// One daemon per data dir: an flock held for the daemon's life (released however it dies).
absl::Status LockDataDir(const std::string& dir) {
  std::string path = dir + "/ttsd.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat("another ttsd serve is using ", dir,
                                                      "; stop it first or choose another --data-dir"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const char* what) {
  auto s = core::ReadFileToString(path);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", s.status().message()));
  return s;
}

// The listening address and its credentials; refuses an unauthenticated TCP port unless --insecure.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenCredentials(const ServeOptions& o,
                                                                           std::string* token) {
  if (o.listen.rfind("unix:", 0) == 0) return grpc::InsecureServerCredentials();  // the socket's mode is the check
  if (o.listen.rfind("tcp://", 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--listen ", o.listen, ": use unix:///PATH or tcp://HOST:PORT"));
  }
  if (!o.token_file.empty()) {
    std::string error;
    if (!api::ReadTokenFile(o.token_file, token, &error)) return absl::InvalidArgumentError("--token-file: " + error);
  } else if (!o.insecure) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", o.listen, " without --token-file would let anyone who can reach the port run jobs as this user; "
        "pass --token-file FILE (and --tls-cert/--tls-key), or --insecure on a trusted network"));
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (o.tls_cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(o.tls_client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                                : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  TTSD_ASSIGN_OR_RETURN(std::string cert, ReadSecretFile(o.tls_cert, "--tls-cert"));
  TTSD_ASSIGN_OR_RETURN(std::string key, ReadSecretFile(o.tls_key, "--tls-key"));
  ssl.pem_key_cert_pairs.push_back({key, cert});
  if (!o.tls_client_ca.empty()) {
    TTSD_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadSecretFile(o.tls_client_ca, "--tls-client-ca"));
  }
  return grpc::SslServerCredentials(ssl);
}

int Serve(ServeOptions o) {
  // Before any thread exists, so every thread inherits the mask and only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // re-read --token-file
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a debugging aid): measurable
  // on the watch fan-out path, where each event takes a lock per watcher.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  if (o.data_dir.empty()) o.data_dir = DefaultDataDir();
  o.data_dir = std::filesystem::absolute(o.data_dir).lexically_normal().string();
  std::error_code ec;
  const bool created = !std::filesystem::exists(o.data_dir, ec);
  if (auto st = core::EnsureDirectory(o.data_dir); !st.ok()) return ReportError(st);
  if (created) ::chmod(o.data_dir.c_str(), 0700);  // an existing folder keeps the mode its owner chose
  if (auto st = LockDataDir(o.data_dir); !st.ok()) return ReportError(st);
  if (o.listen.empty()) o.listen = "unix://" + o.data_dir + "/ttsd.sock";
  std::string token;
  auto creds = ListenCredentials(o, &token);
  if (!creds.ok()) {
    ReportError(creds.status());
    return kExitBadConfig;
  }
  auto devices = daemon::ParseDeviceList(o.devices);
  if (!devices.ok()) {
    ReportError(devices.status());
    return kExitBadConfig;
  }

  store::StoreOptions so;
  so.db_path = o.data_dir + "/ttsd.db";
  so.jobs_dir = o.jobs_dir.empty() ? o.data_dir + "/jobs" : std::filesystem::absolute(o.jobs_dir).string();
  if (auto st = core::EnsureDirectory(so.jobs_dir); !st.ok()) return ReportError(st);
  std::vector<std::string> roots = o.allowed_roots;
  if (roots.empty()) {
    roots = {o.data_dir, so.jobs_dir};
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') roots.push_back(home);
  }
  roots.push_back(so.jobs_dir);  // job:<id> fine-tune bases live there
  spdlog::info("jobs may read and write under: {}", api::AllowedRoots(roots).Describe());
  auto store = store::Store::Open(so);
  if (!store.ok()) return ReportError(store.status());
  daemon::EventBus bus(store->get());
  daemon::ManagerOptions mo;
  mo.ttsd_binary = SelfExe();
  mo.devices = *devices;
  mo.max_concurrent_jobs = o.max_concurrent_jobs;
  mo.worker_threads = o.worker_threads;
  mo.worker_nice = o.worker_nice;
  mo.cancel_grace = absl::Seconds(o.cancel_grace_s);
  mo.allowed_roots = roots;
  daemon::JobManager jobs(&bus, mo);
  api::TrainingService service(&bus, &jobs, api::Authorizer(token), absl::Seconds(o.heartbeat_s),
                               api::AllowedRoots(roots));

  std::string socket_path;
  if (o.listen.rfind("unix://", 0) == 0) {
    socket_path = o.listen.substr(7);
    ::unlink(socket_path.c_str());  // a stale socket of a dead daemon (we hold the data dir's lock)
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::string target = o.listen.rfind("tcp://", 0) == 0 ? o.listen.substr(6) : o.listen;
  int bound_port = 0;
  builder.AddListeningPort(target, *creds, &bound_port);
  builder.RegisterService(&service);
  builder.SetMaxSendMessageSize(64 << 20);
  // Every request is small (a config is at most api::kMaxConfigBytes); a bigger one is refused by gRPC
  // with RESOURCE_EXHAUSTED before any of it is parsed.
  builder.SetMaxReceiveMessageSize(static_cast<int>(2 * api::kMaxConfigBytes));
  mode_t old_umask = ::umask(0077);  // the socket is created 0600: only this user can talk to the daemon
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ::umask(old_umask);
  if (!server || (socket_path.empty() && bound_port == 0)) {
    return ReportError(absl::UnavailableError(absl::StrCat("cannot listen on ", o.listen)));
  }
  if (!socket_path.empty()) ::chmod(socket_path.c_str(), 0600);
  if (auto st = jobs.Start(); !st.ok()) return ReportError(st);
  spdlog::info("ttsd serving on {} (data dir {}, devices {}, {} job(s) at a time{})", o.listen, o.data_dir, o.devices,
               o.max_concurrent_jobs, token.empty() ? "" : ", token required");

  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    if (o.token_file.empty()) {
      spdlog::info("SIGHUP: no --token-file to re-read");
      continue;
    }
    std::string fresh, error;
    if (!api::ReadTokenFile(o.token_file, &fresh, &error)) {
      spdlog::warn("SIGHUP: {}; the old token stays in force", error);
      continue;
    }
    service.ReloadToken(fresh);
    spdlog::info("SIGHUP: token re-read from {}; streams opened with another token are closed", o.token_file);
  }
  spdlog::info("{}: shutting down; running jobs checkpoint and continue at the next start", ::strsignal(sig));
  // Health first: load balancers and `ttsctl ping` see NOT_SERVING (Watch streams are told) before the
  // listener goes away.
  if (auto* health = server->GetHealthCheckService()) health->Shutdown();
  service.StopSyntheses();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  jobs.Shutdown();
  if (!socket_path.empty()) ::unlink(socket_path.c_str());
  return kExitOk;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ServeOptions>();
  auto* serve = app.add_subcommand("serve", "Run the training daemon (gRPC control API, job queue, workers)");
  serve->add_option("--data-dir", o->data_dir, "Database, job folders and socket (default $XDG_DATA_HOME/ttsd)");
  serve->add_option("--jobs-dir", o->jobs_dir,
                    "Job folders (checkpoints, samples, logs), e.g. on a larger volume (default <data-dir>/jobs)");
  serve->add_option("--allowed-roots", o->allowed_roots,
                    "Folders a job's config may read from and write to, comma separated (default: the data dir, "
                    "the jobs dir and $HOME)")
      ->delimiter(',');
  serve->add_option("--listen", o->listen, "unix:///PATH (default <data-dir>/ttsd.sock) or tcp://HOST:PORT");
  serve->add_option("--token-file", o->token_file, "Bearer token clients must send (required for tcp://)");
  serve->add_option("--tls-cert", o->tls_cert, "TLS certificate (PEM) for tcp://");
  serve->add_option("--tls-key", o->tls_key, "TLS private key (PEM)");
  serve->add_option("--tls-client-ca", o->tls_client_ca, "Require client certificates signed by this CA (PEM)");
  serve->add_flag("--insecure", o->insecure, "Allow tcp:// without a token (trusted networks only)");
  serve->add_option("--devices", o->devices, "cpu, or cuda:0,cuda:1,... (one job per GPU)");
  serve->add_option("--max-concurrent-jobs", o->max_concurrent_jobs, "Jobs running at once")->check(CLI::PositiveNumber);
  serve->add_option("--worker-threads", o->worker_threads, "LibTorch threads per worker (0: the job's config)")
      ->check(CLI::NonNegativeNumber);
  serve->add_option("--worker-nice", o->worker_nice, "Niceness added to workers, so the daemon stays responsive")
      ->check(CLI::Range(0, 19));
  serve->add_option("--cancel-grace", o->cancel_grace_s, "Seconds a cancelled worker gets before SIGKILL")
      ->check(CLI::NonNegativeNumber);
  serve->add_option("--heartbeat", o->heartbeat_s, "Seconds between heartbeats on idle watch streams")
      ->check(CLI::PositiveNumber);
  serve->callback([o, exit_code] { *exit_code = Serve(*o); });
}

}  // namespace ttsd::server
