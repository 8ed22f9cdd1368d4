// The store's schema as an ordered list of migrations; PRAGMA user_version records how many ran.
#pragma once

#include "absl/status/status.h"
#include "server/store/sqlite.h"

namespace ttsd::server::store {

// Applies the migrations `db` has not seen yet, each in its own transaction. A database from a newer
// ttsd (user_version beyond ours) is refused rather than misread.
absl::Status Migrate(Database& db);

int SchemaVersion();  // the number of migrations this build knows

}  // namespace ttsd::server::store
