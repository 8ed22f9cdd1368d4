// Conversions between the store's rows and the API's messages (ttsd.v1.Job, ttsd.v1.JobEvent). The
// store keeps each event as the serialised JobEvent body; seq, time and attempt live in columns.
#pragma once

#include <string>

#include "server/store/store.h"
#include "ttsd/v1/ttsd.pb.h"

namespace ttsd::server::daemon {

ttsd::v1::JobState ToApiState(store::JobState s);
bool FromApiState(ttsd::v1::JobState s, store::JobState* out);
ttsd::v1::Desired ToApiDesired(store::Desired d);

// The store's kind name of an event ("state", "progress", ...; "" for heartbeat / end, never stored).
std::string EventKindName(const ttsd::v1::JobEvent& e);
ttsd::v1::EventKind EventKindOf(const ttsd::v1::JobEvent& e);

// The stored event as the API sends it (a payload that does not parse becomes a log line saying so).
ttsd::v1::JobEvent ToApiEvent(const store::EventRecord& r);

ttsd::v1::JobEvent StateEvent(store::JobState state, const std::string& reason, const std::string& message);

// Fields the store does not know (queue position, newest step) are filled by the caller.
ttsd::v1::Job ToApiJob(const store::JobRecord& r);

void SetTimestampMs(int64_t ms, google::protobuf::Timestamp* t);

// A job that no worker will run again unless a user asks: it has stopped, failed or ended. A watch
// following a job ends when it gets there.
bool IsSettled(store::JobState s);

}  // namespace ttsd::server::daemon
