#include "core/train/console_sink.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ttsd::core::train {
namespace {

std::string Clock(double seconds) {
  long s = static_cast<long>(seconds);
  return absl::StrFormat("%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleSink>> ConsoleSink::Create(const std::string& dir, bool quiet) {
  std::ofstream log((std::filesystem::path(dir) / "train.log").string(), std::ios::app);
  std::ofstream metrics((std::filesystem::path(dir) / "metrics.jsonl").string(), std::ios::app);
  if (!log || !metrics) return absl::PermissionDeniedError(absl::StrCat("cannot write train.log / metrics.jsonl in ", dir));
  return std::unique_ptr<ConsoleSink>(new ConsoleSink(std::move(log), std::move(metrics), quiet));
}

void ConsoleSink::Line(const std::string& text) {
  if (!quiet_) std::printf("%s\n", text.c_str());
  std::fflush(stdout);
  log_ << Now() << " " << text << "\n";
  log_.flush();
}

void ConsoleSink::OnStep(const StepEvent& e) {
  // The total first, then each term (a GAN's per-discriminator parts only in metrics.jsonl and TensorBoard:
  // they would double the line).
  std::string losses;
  if (auto it = e.values.find("train/loss"); it != e.values.end()) absl::StrAppend(&losses, absl::StrFormat(" loss %.4f", it->second));
  for (const auto& [k, v] : e.values) {
    if (k.rfind("train/", 0) == 0 && k != "train/loss" && k.find("disc_loss_") == std::string::npos) absl::StrAppend(&losses, " ", k.substr(6), " ", absl::StrFormat("%.4f", v));
  }
  auto get = [&](const char* k) { auto it = e.values.find(k); return it == e.values.end() ? 0.0 : it->second; };
  Line(absl::StrFormat("epoch %d step %d/%d%s lr %.3g gnorm %.3g %.3f s/step %.0f frames/s ETA %s", e.epoch,
                       e.step, e.total_steps, losses, get("lr"), get("grad_norm"), e.step_seconds, e.frames_per_second,
                       Clock(e.eta_seconds)));
  nlohmann::json j = {{"step", e.step}, {"epoch", e.epoch}};
  for (const auto& [k, v] : e.values) j[k] = v;
  j["step_s"] = e.step_seconds;
  j["frames_per_s"] = e.frames_per_second;
  metrics_ << j.dump() << "\n";
  metrics_.flush();
}

void ConsoleSink::OnValidation(const ValidationEvent& e) {
  std::string values;
  for (const auto& [k, v] : e.values) absl::StrAppend(&values, " ", k, " ", absl::StrFormat("%.4f", v));
  std::string best = e.is_best ? " (best so far)" : "";
  if (!e.is_best && e.best_step >= 0) {
    best = absl::StrCat(" (best ", e.best_metric, " ", absl::StrFormat("%.4f", e.best_value), " at step ", e.best_step,
                        ", ", e.validations_since_best, " validation(s) ago)");
  }
  Line(absl::StrCat("validation step ", e.step, values, best));
  nlohmann::json j = {{"step", e.step}, {"epoch", e.epoch}};
  for (const auto& [k, v] : e.values) j[k] = v;
  metrics_ << j.dump() << "\n";
  metrics_.flush();
}

void ConsoleSink::OnCheckpoint(const CheckpointEvent& e) {
  Line(absl::StrCat("checkpoint ", e.path, " (", e.bytes / 1024, " KiB, sha256 ", e.sha256.substr(0, 12), ")",
                    e.is_best ? " best" : ""));
}

void ConsoleSink::OnLog(const std::string& line) { Line(line); }

void ConsoleSink::OnSample(const SampleEvent& e) {
  Line(absl::StrFormat("audio %s (%.1f s): \"%s\"", e.path, e.duration_seconds, e.text));
}

}  // namespace ttsd::core::train
