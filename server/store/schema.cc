#include "server/store/schema.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace ttsd::server::store {
namespace {

// Append only: a migration, once released, never changes.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
      // 1: jobs, events, metrics (+ archive), checkpoints, samples.
      R"sql(
      CREATE TABLE jobs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
        name        TEXT NOT NULL,
        request_id  TEXT UNIQUE,                        -- NULL when the client gave none
        priority    INTEGER NOT NULL DEFAULT 0,
        state       TEXT NOT NULL,
        desired     TEXT NOT NULL,
        reason      TEXT NOT NULL DEFAULT '',
        message     TEXT NOT NULL DEFAULT '',
        config_yaml TEXT NOT NULL,
        job_dir     TEXT NOT NULL,
        devices     INTEGER NOT NULL DEFAULT 1,
        attempt     INTEGER NOT NULL DEFAULT 0,
        restarts    INTEGER NOT NULL DEFAULT 0,
        last_seq    INTEGER NOT NULL DEFAULT 0,
        created_ms  INTEGER NOT NULL,
        updated_ms  INTEGER NOT NULL
      );
      CREATE INDEX jobs_by_state ON jobs(state, priority DESC, id);
      CREATE TABLE events (
        job_id  INTEGER NOT NULL REFERENCES jobs(id),
        seq     INTEGER NOT NULL,
        time_ms INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY (job_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE metrics (
        job_id  INTEGER NOT NULL,
        key     TEXT NOT NULL,
        step    INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        value   REAL NOT NULL,
        PRIMARY KEY (job_id, key, step)
      ) WITHOUT ROWID;
      CREATE TABLE metrics_archive (
        job_id      INTEGER NOT NULL,
        key         TEXT NOT NULL,
        step        INTEGER NOT NULL,
        attempt     INTEGER NOT NULL,
        value       REAL NOT NULL,
        archived_ms INTEGER NOT NULL
      );
      CREATE TABLE checkpoints (
        job_id       INTEGER NOT NULL REFERENCES jobs(id),
        step         INTEGER NOT NULL,
        epoch        INTEGER NOT NULL,
        path         TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        bytes        INTEGER NOT NULL,
        metrics_json TEXT NOT NULL DEFAULT '{}',
        is_best      INTEGER NOT NULL DEFAULT 0,
        created_ms   INTEGER NOT NULL,
        PRIMARY KEY (job_id, step)
      );
      CREATE TABLE samples (
        job_id      INTEGER NOT NULL REFERENCES jobs(id),
        step        INTEGER NOT NULL,
        tag         TEXT NOT NULL,
        path        TEXT NOT NULL,
        sample_rate INTEGER NOT NULL,
        duration_s  REAL NOT NULL,
        created_ms  INTEGER NOT NULL,
        PRIMARY KEY (job_id, step, tag)
      );
      )sql",
      // 2: a job's newest event of a kind (its latest validation, for the best-so-far in status).
      R"sql(
      CREATE INDEX events_by_kind ON events(job_id, kind, seq);
      )sql",
      // 3: a fine-tune's lineage: the checkpoint it started from.
      R"sql(
      ALTER TABLE jobs ADD COLUMN parent_json TEXT NOT NULL DEFAULT '';
      )sql",
  };
  return kMigrations;
}

}  // namespace

int SchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::Status Migrate(Database& db) {
  auto stmt = db.Prepare("PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  const int have = static_cast<int>(stmt->Int(0));
  if (have > SchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat(db.path(), " has schema version ", have, ", newer than this ttsd (",
                                                      SchemaVersion(), "): upgrade ttsd, or use another --data-dir"));
  }
  for (int v = have; v < SchemaVersion(); ++v) {
    auto st = db.InTransaction([&]() -> absl::Status {
      if (auto s = db.Exec(Migrations()[v]); !s.ok()) return s;
      return db.Exec(absl::StrCat("PRAGMA user_version = ", v + 1));
    });
    if (!st.ok()) return absl::Status(st.code(), absl::StrCat("migration ", v + 1, ": ", st.message()));
  }
  return absl::OkStatus();
}

}  // namespace ttsd::server::store
