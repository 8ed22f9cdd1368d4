// What ttsctl prints: text for people, one JSON object per line for scripts (--output json, protobuf's
// JSON mapping of the API's messages).
#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "ttsd/v1/ttsd.pb.h"

namespace ttsd::client {

std::string StateName(ttsd::v1::JobState s);  // "RUNNING"
std::string ToJson(const google::protobuf::Message& m);
std::string FormatSeconds(double s);          // "1h02m", "3m05s", "12s"
std::string FormatAge(const google::protobuf::Timestamp& t);  // "5m ago"
// The losses of a progress event, "loss 1.234 mle 0.987 ...", short key names.
std::string FormatValues(const google::protobuf::Map<std::string, double>& values);
// A job in one line for `list`, and the header that goes above such lines.
// "job 3 step 800 (sha256 0123456789ab): /path/ckpt-000000800.pt"; a file outside the daemon's jobs
// has job 0 and is shown by path only.
std::string FormatLineage(const ttsd::v1::Lineage& l);
std::string JobLineHeader();
std::string JobLine(const ttsd::v1::Job& j);

}  // namespace ttsd::client
