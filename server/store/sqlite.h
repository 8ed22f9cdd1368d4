// Thin RAII over the SQLite C API: a connection and prepared statements, errors as absl::Status with the
// SQL and SQLite's message. Not thread-safe: the Store serialises access (store.h).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ttsd::server::store {

// A prepared statement. One from the Database's cache (`lent` set) goes back to it when destroyed:
// reset, bindings cleared, ready for the next Prepare of the same SQL.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* lent = nullptr) : db_(db), stmt_(stmt), lent_(lent) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_), lent_(other.lent_) {
    other.stmt_ = nullptr;
    other.lent_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, const std::string& value);  // TEXT
  Statement& BindBlob(int index, const std::string& bytes);
  Statement& BindNull(int index);

  // Advances: true while a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Runs to completion (for statements that return no rows).
  absl::Status Run();
  void Reset();  // keeps the bindings

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  double Double(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string Text(int column) const;
  std::string Blob(int column) const;
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* lent_;  // the cache's in-use flag; nullptr: this statement owns stmt_
};

class Database {
 public:
  // Opens (creating) `path` in WAL mode with foreign keys on and synchronous=FULL: a committed job or
  // checkpoint row survives a power cut.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  absl::Status Exec(const std::string& sql);
  // Statements are compiled once per distinct SQL text and reused (compiling costs more than running
  // most of the daemon's queries). A statement whose SQL is already in use is compiled afresh.
  absl::StatusOr<Statement> Prepare(const std::string& sql);
  // kSynced: the commit is fsynced (synchronous=FULL; jobs, states, checkpoints). kBuffered: the commit
  // is written but not fsynced (synchronous=NORMAL): it survives the process dying, and the database
  // stays consistent, but a power cut may lose the newest such commits (events, metric rows). That
  // saves an fsync per training event, which otherwise dominates the event latency to watchers.
  enum class Durability { kSynced, kBuffered };
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; any error rolls back and is returned.
  absl::Status InTransaction(const std::function<absl::Status()>& body, Durability d = Durability::kSynced);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool lent = false;
  };
  static constexpr size_t kMaxCached = 64;  // bounds the cache: SQL built from a request varies a little
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<Cached>> cache_;  // unique_ptr: `lent` must not move
};

// An online copy of the database at `src` (a daemon may be writing to it: SQLite's backup API copies a
// consistent snapshot) into `dest`, written as dest.tmp, checked with PRAGMA integrity_check, then
// renamed into place. Returns the number of pages copied.
absl::StatusOr<int64_t> BackupDatabase(const std::string& src, const std::string& dest);

// An error from SQLite as a Status: SQLITE_FULL -> RESOURCE_EXHAUSTED (disk full), busy/locked ->
// UNAVAILABLE, the rest INTERNAL; `what` says which operation.
absl::Status SqliteError(sqlite3* db, int code, const std::string& what);

}  // namespace ttsd::server::store
