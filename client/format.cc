#include "client/format.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdio>
#include <map>

namespace ttsd::client {

std::string StateName(ttsd::v1::JobState s) {
  std::string n = ttsd::v1::JobState_Name(s);
  const std::string prefix = "JOB_STATE_";
  return n.rfind(prefix, 0) == 0 ? n.substr(prefix.size()) : n;
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

std::string FormatSeconds(double s) {
  if (s < 0) s = 0;
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", t / 3600, (t / 60) % 60);
  } else if (t >= 60) {
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%lds", t);
  }
  return buf;
}

std::string FormatAge(const google::protobuf::Timestamp& t) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return FormatSeconds(static_cast<double>(now.count() - t.seconds())) + " ago";
}

std::string FormatValues(const google::protobuf::Map<std::string, double>& values) {
  std::map<std::string, double> sorted(values.begin(), values.end());  // stable order
  std::string out;
  for (const auto& [key, value] : sorted) {
    // A GAN's per-discriminator parts would double the line; `ttsctl metrics` and TensorBoard have them.
    if (key.find("disc_loss_") != std::string::npos) continue;
    std::string k = key.substr(key.find('/') + 1);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s%s %.4g", out.empty() ? "" : " ", k.c_str(), value);
    out += buf;
  }
  return out;
}

std::string FormatLineage(const ttsd::v1::Lineage& l) {
  std::string out = l.job_id() > 0 ? "job " + std::to_string(l.job_id()) + " " : std::string();
  out += "step " + std::to_string(l.step()) + " (sha256 " + l.sha256().substr(0, 12) + "): " + l.path();
  if (!l.imported_from().empty()) {
    out += ", imported from " + l.imported_from() + " " + l.source_path() + " (sha256 " + l.source_sha256().substr(0, 12) + ")";
  }
  return out;
}

std::string JobLineHeader() { return "ID     NAME                 STATE        STEP            PRIO  UPDATED"; }

std::string JobLine(const ttsd::v1::Job& j) {
  std::string state = StateName(j.state());
  if (j.queue_position() > 0) state += " #" + std::to_string(j.queue_position());
  std::string step = j.total_steps() > 0 ? std::to_string(j.step()) + "/" + std::to_string(j.total_steps())
                                         : (j.step() > 0 ? std::to_string(j.step()) : "-");
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%-6llu %-20.20s %-12s %-15s %5lld  %s", static_cast<unsigned long long>(j.id()),
                j.name().c_str(), state.c_str(), step.c_str(), static_cast<long long>(j.priority()),
                FormatAge(j.updated()).c_str());
  return buf;
}

}  // namespace ttsd::client
