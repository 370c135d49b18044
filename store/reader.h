#pragma once
// Read-only access to docketd's database for `docket audit`, `docket report`
// and `docket export`.
//
// The connection is opened with SQLITE_OPEN_READONLY, so it never migrates,
// never writes and never takes a write lock: it works while docketd runs
// (WAL readers do not block the writer), with docketd stopped, and on a copy
// of the file. Rows come back as the store's own record types; the larger
// reads stream through a callback so a report over millions of deadlines
// does not hold them all in memory.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite.h"
#include "store/store.h"

namespace docket::store {

// A deadline row with what the report needs of its owner: the review's
// workflow and state, or, for a meeting milestone, the meeting's cycle and
// date (`meeting` is then true).
struct DeadlineRow {
  DeadlineRecord deadline;
  std::string workflow;     // review type, or meeting cycle
  std::string owner_state;  // the review's or the meeting's state
  std::string assignments;  // reviews: JSON role -> person; meetings: "{}"
  bool meeting = false;
};

// What a reader needs of the file's schema: `current` for everything that
// reads reviews, deadlines, meetings or the outbox (their columns change
// between versions); `any` for the audit trail alone (unchanged since schema
// 1, so an old backup still verifies) and for whole-file copies.
enum class Schema { current, any };

class Reader {
 public:
  // Throws StoreError when the file cannot be opened, holds no docket schema
  // (PRAGMA user_version 0), was written by a newer docket, or (with
  // Schema::current) by an older one that docketd has not yet upgraded.
  explicit Reader(const std::filesystem::path& path, Schema need = Schema::current);

  const std::filesystem::path& path() const { return path_; }
  int schema_version();
  Connection& db() { return db_; }

  std::optional<std::string> meta(const std::string& key);
  std::optional<ReviewRecord> review(const std::string& ref);
  std::vector<ReviewRecord> reviews_started_by(const std::string& parent_ref);
  std::optional<MeetingRecord> meeting(const std::string& id);
  // Meetings whose current date lies in [from, to] (YYYY-MM-DD, inclusive).
  std::vector<MeetingRecord> meetings_between(const std::string& from, const std::string& to);
  std::vector<DeadlineRecord> deadlines_of(const std::string& ref);

  // Review stages (meeting = false) or meeting milestones (meeting = true)
  // whose due day lies in [from, to], through the due-date index.
  void for_each_due(const std::string& from, const std::string& to, bool meeting,
                    const std::function<void(const DeadlineRow&)>& fn);
  // Every deadline neither met nor waived, of reviews and meetings alike.
  void for_each_open(const std::function<void(const DeadlineRow&)>& fn);

  // The newest audit record, if any (its clock says whether the database was
  // last run on a virtual clock).
  std::optional<AuditRecord> last_audit();

 private:
  std::filesystem::path path_;
  Connection db_;
};

}  // namespace docket::store
