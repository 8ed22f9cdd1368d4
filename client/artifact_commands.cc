// ttsctl logs | checkpoints | metrics
#include <cstdio>
#include <fstream>
#include <map>

#include "client/commands.h"
#include "client/format.h"
#include "client/watch.h"

namespace ttsd::client {
namespace {

// Streams an artifact of a job to stdout.
int Logs(Globals* g, uint64_t id, bool follow) {
  Connection conn(g->conn);
  // The cursor first, then the file: a line logged in between is shown twice rather than lost.
  ttsd::v1::JobRef ref;
  ref.set_job_id(id);
  ttsd::v1::Job job;
  {
    auto ctx = conn.Context();
    grpc::Status st = conn.stub().GetJob(ctx.get(), ref, &job);
    if (!st.ok()) return conn.Report(st);
  }
  ttsd::v1::GetArtifactRequest req;
  req.set_job_id(id);
  req.set_kind(ttsd::v1::ARTIFACT_KIND_LOG);
  auto ctx = conn.Context(0);
  auto reader = conn.stub().GetArtifact(ctx.get(), req);
  ttsd::v1::ArtifactChunk chunk;
  while (reader->Read(&chunk)) std::fwrite(chunk.data().data(), 1, chunk.data().size(), stdout);
  grpc::Status st = reader->Finish();
  // A job that has not started yet has no train.log: with -f that is fine, the lines will come.
  if (!st.ok() && !(follow && st.error_code() == grpc::StatusCode::NOT_FOUND)) return conn.Report(st);
  std::fflush(stdout);
  if (!follow) return kExitOk;
  WatchOptions wo;
  wo.json = g->json();
  wo.after_seq = job.last_seq();
  wo.lines_only = true;
  wo.kinds = {ttsd::v1::EVENT_KIND_LOG, ttsd::v1::EVENT_KIND_STATE, ttsd::v1::EVENT_KIND_PROGRESS,
              ttsd::v1::EVENT_KIND_VALIDATION, ttsd::v1::EVENT_KIND_CHECKPOINT};
  return Watch(conn, id, wo);
}

int Checkpoints(Globals* g, uint64_t id) {
  Connection conn(g->conn);
  ttsd::v1::JobRef ref;
  ref.set_job_id(id);
  ttsd::v1::ListCheckpointsResponse resp;
  auto ctx = conn.Context();
  grpc::Status st = conn.stub().ListCheckpoints(ctx.get(), ref, &resp);
  if (!st.ok()) return conn.Report(st);
  if (g->json()) {
    if (resp.has_parent()) std::printf("{\"parent\":%s}\n", ToJson(resp.parent()).c_str());
    for (const auto& c : resp.checkpoints()) std::printf("%s\n", ToJson(c).c_str());
    return kExitOk;
  }
  if (resp.has_parent()) std::printf("fine-tuned from %s\n", FormatLineage(resp.parent()).c_str());
  if (resp.checkpoints().empty()) {
    std::printf("job %llu has no checkpoints yet\n", static_cast<unsigned long long>(id));
    return kExitOk;
  }
  std::printf("%-8s %-6s %10s  %s\n", "STEP", "BEST", "BYTES", "PATH");
  for (const auto& c : resp.checkpoints()) {
    std::printf("%-8lld %-6s %10lld  %s\n", static_cast<long long>(c.step()), c.is_best() ? "best" : "",
                static_cast<long long>(c.bytes()), c.path().c_str());
  }
  return kExitOk;
}

int Metrics(Globals* g, uint64_t id, const std::vector<std::string>& keys, int64_t from, int64_t to) {
  Connection conn(g->conn);
  ttsd::v1::GetMetricsRequest req;
  req.set_job_id(id);
  for (const auto& k : keys) req.add_keys(k);
  req.set_from_step(from);
  req.set_to_step(to);
  ttsd::v1::GetMetricsResponse resp;
  auto ctx = conn.Context();
  grpc::Status st = conn.stub().GetMetrics(ctx.get(), req, &resp);
  if (!st.ok()) return conn.Report(st);
  if (g->json()) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  if (resp.series().empty()) {
    std::printf("no metrics%s yet\n", keys.empty() ? "" : " with those keys");
    return kExitOk;
  }
  // One row per step, one column per key.
  std::map<int64_t, std::map<std::string, double>> table;
  std::printf("%-8s", "step");
  for (const auto& s : resp.series()) {
    std::printf(" %14s", s.key().c_str());
    for (const auto& p : s.points()) table[p.step()][s.key()] = p.value();
  }
  std::printf("\n");
  for (const auto& [step, row] : table) {
    std::printf("%-8lld", static_cast<long long>(step));
    for (const auto& s : resp.series()) {
      auto it = row.find(s.key());
      if (it == row.end()) {
        std::printf(" %14s", "-");
      } else {
        std::printf(" %14.6g", it->second);
      }
    }
    std::printf("\n");
  }
  return kExitOk;
}

struct SynthArgs {
  uint64_t job = 0;
  std::string checkpoint = "latest", text, out, speaker;
  uint64_t seed = 0;
  // Sent only when given on the command line; the daemon checks the ranges.
  double noise_scale = 0, length_scale = 0, noise_scale_w = 0;
  CLI::Option *noise_scale_opt = nullptr, *length_scale_opt = nullptr, *noise_scale_w_opt = nullptr;
};

int Synth(Globals* g, const SynthArgs& a) {
  Connection conn(g->conn);
  ttsd::v1::SynthesizeRequest req;
  req.set_job_id(a.job);
  req.set_checkpoint(a.checkpoint);
  req.set_text(a.text);
  req.set_speaker(a.speaker);
  req.set_seed(a.seed);
  if (a.noise_scale_opt->count() > 0) req.set_noise_scale(a.noise_scale);
  if (a.length_scale_opt->count() > 0) req.set_length_scale(a.length_scale);
  if (a.noise_scale_w_opt->count() > 0) req.set_noise_scale_w(a.noise_scale_w);
  ttsd::v1::SynthesizeResponse resp;
  auto ctx = conn.Context(330);  // the daemon allows a synthesis 300 s
  grpc::Status st = conn.stub().Synthesize(ctx.get(), req, &resp);
  if (!st.ok()) return conn.Report(st);
  std::ofstream out(a.out, std::ios::binary);
  out.write(resp.wav().data(), static_cast<std::streamsize>(resp.wav().size()));
  if (!out) return std::fprintf(stderr, "ttsctl: cannot write %s\n", a.out.c_str()), kExitFailed;
  std::printf("%s: %.2f s at %u Hz, spoken by %s\n", a.out.c_str(), resp.duration_seconds(), resp.sample_rate(),
              resp.checkpoint_path().c_str());
  return kExitOk;
}

}  // namespace

void RegisterArtifactCommands(CLI::App& app, Globals* g) {
  auto sa = std::make_shared<SynthArgs>();
  auto* synth = app.add_subcommand("synth", "Speak a text with one of a job's checkpoints (the daemon runs it)");
  synth->add_option("--job", sa->job, "Job id")->required();
  synth->add_option("--checkpoint", sa->checkpoint, "latest (default), best, or a step");
  synth->add_option("text", sa->text, "What to say")->required();
  synth->add_option("-o,--out", sa->out, "Output WAV")->required();
  synth->add_option("--speaker", sa->speaker, "Speaker name (multi-speaker voices)");
  synth->add_option("--seed", sa->seed, "Noise seed");
  sa->noise_scale_opt =
      synth->add_option("--noise-scale", sa->noise_scale, "Prior temperature, >= 0 (default: the job's config)");
  sa->length_scale_opt =
      synth->add_option("--length-scale", sa->length_scale, "> 1 speaks slower (default: the job's config)");
  sa->noise_scale_w_opt = synth->add_option(
      "--noise-scale-w", sa->noise_scale_w,
      "VITS: duration noise, >= 0; 0 gives the same rhythm every time (default: the job's config)");
  synth->callback([g, sa] { g->exit_code = Synth(g, *sa); });

  auto lid = std::make_shared<uint64_t>(0);
  auto follow = std::make_shared<bool>(false);
  auto* logs = app.add_subcommand("logs", "Print a job's train.log");
  logs->add_option("job", *lid, "Job id")->required();
  logs->add_flag("-f,--follow", *follow, "Keep printing as the job goes on");
  logs->callback([g, lid, follow] { g->exit_code = Logs(g, *lid, *follow); });

  auto cid = std::make_shared<uint64_t>(0);
  auto* ckpts = app.add_subcommand("checkpoints", "List a job's checkpoints");
  ckpts->add_option("job", *cid, "Job id")->required();
  ckpts->callback([g, cid] { g->exit_code = Checkpoints(g, *cid); });

  struct MetricArgs {
    uint64_t id = 0;
    std::vector<std::string> keys;
    int64_t from = 0, to = 0;
  };
  auto ma = std::make_shared<MetricArgs>();
  auto* metrics = app.add_subcommand("metrics", "Print a job's metric curves (one row per step)");
  metrics->add_option("job", ma->id, "Job id")->required();
  metrics->add_option("--key", ma->keys, "Only these keys (train/loss, val/loss, lr, ...)");
  metrics->add_option("--from", ma->from, "First step");
  metrics->add_option("--to", ma->to, "Last step (0: the newest)");
  metrics->callback([g, ma] { g->exit_code = Metrics(g, ma->id, ma->keys, ma->from, ma->to); });
}

}  // namespace ttsd::client
