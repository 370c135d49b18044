// `docket audit`, `docket audit verify` and `docket audit show REF`.

#include <ostream>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/database.h"
#include "reports/time_text.h"
#include "reports/timeline.h"
#include "store/audit_head.h"
#include "store/audit_key.h"
#include "store/audit_query.h"

namespace docket::cli {

using nlohmann::json;

namespace {

// --since and --until: a local day (the whole day) or a local time.
std::int64_t bound(const std::string& flag, const std::string& text, bool until, const date::time_zone* zone) {
  auto t = workflows::parse_local_time(text);
  if (!t) throw UsageError(flag + " must be YYYY-MM-DD or YYYY-MM-DDTHH:MM, found '" + text + "'");
  if (until && text.size() == 10) *t += date::days{1};
  return workflows::to_utc(zone, *t).time_since_epoch().count();
}

std::string with_commas(std::int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

json record_json(const store::AuditRecord& r, const std::string& summary, const date::time_zone* zone) {
  json details = json::parse(r.details, nullptr, false);
  if (details.is_discarded()) details = r.details;
  return {{"seq", r.seq},         {"at", reports::utc_iso(r.at)},    {"local", reports::local_iso(r.at, zone)},
          {"actor", r.actor},     {"kind", r.kind},                  {"ref", r.ref},
          {"stage", r.stage},     {"summary", summary},              {"details", details},
          {"version", r.version}, {"clock", r.clock},                {"prev_hash", r.prev_hash},
          {"hash", r.hash}};
}

reports::Table csv_table(const std::vector<store::AuditRecord>& records, const std::vector<std::string>& summaries,
                         const date::time_zone* zone) {
  reports::Table t;
  t.columns = {{"seq", "seq"},         {"at_utc", "at"},     {"local_time", "local time"}, {"actor", "actor"},
               {"kind", "kind"},       {"ref", "ref"},       {"stage", "stage"},           {"summary", "summary"},
               {"details", "details"}, {"version", "version"}, {"clock", "clock"},         {"prev_hash", "prev hash"},
               {"hash", "hash"}};
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    t.add({r.seq, reports::utc_iso(r.at), reports::local_iso(r.at, zone), r.actor, r.kind, r.ref, r.stage, summaries[i],
           r.details, r.version, r.clock, r.prev_hash, r.hash});
  }
  return t;
}

}  // namespace

int audit_command(const AuditOptions& o, std::ostream& out, std::ostream& err) {
  const auto format = format_of(o);
  auto db = open_database(o, NeedConfig::no, err, store::Schema::any);  // the audit table is as it was in schema 1
  if (!db) return 2;
  store::AuditFilter f;
  f.ref = o.ref;
  f.workflow = o.workflow;
  f.stage = o.stage;
  f.actor = o.actor;
  f.kind = o.kind;
  f.limit = o.limit;
  if (!o.since.empty()) f.since = bound("--since", o.since, false, db->zone);
  if (!o.until.empty()) f.until = bound("--until", o.until, true, db->zone);
  if (f.since && f.until && *f.since >= *f.until) throw UsageError("--since must be before --until");
  if (!o.workflow.empty() && db->config && !db->config->has_workflow(o.workflow)) {
    std::vector<std::string> ids;
    for (const auto& [id, d] : db->config->reviews) ids.push_back(id);
    for (const auto& [id, c] : db->config->cycles) ids.push_back(id);
    throw UsageError("unknown workflow '" + o.workflow + "'" + workflows::did_you_mean(o.workflow, ids));
  }
  const store::AuditPage page = store::query_audit(*db->reader, f);
  if (o.verbose) {
    err << "query: " << static_cast<double>(page.elapsed.count()) / 1000.0 << " ms, " << page.records.size()
        << " records" << (page.more ? ", more match" : "") << '\n';
    for (const auto& step : page.plan) err << "plan: " << step << '\n';
  }
  reports::WorkflowOf workflow_of(*db->reader);
  std::vector<std::string> summaries;
  for (const auto& r : page.records) {
    summaries.push_back(reports::describe(r, workflow_of(r.ref), db->config.get()));
  }
  const std::string more = "more records match: these are the newest " + std::to_string(page.records.size()) +
                           "; raise --limit or narrow with --since/--until";
  if (format == reports::Format::json) {
    json list = json::array();
    for (std::size_t i = 0; i < page.records.size(); ++i) list.push_back(record_json(page.records[i], summaries[i], db->zone));
    out << json{{"records", list}, {"more", page.more}}.dump(2) << '\n';
    return 0;
  }
  if (format == reports::Format::csv) {
    reports::CsvWriter csv(out);
    reports::write_csv(csv, csv_table(page.records, summaries, db->zone));
    if (page.more) err << "docket: " << more << '\n';
    return 0;
  }
  if (page.records.empty()) {
    out << "No audit records match.\n";
    return 0;
  }
  reports::Table t;
  t.columns = {{"seq", "seq"}, {"when", "when"}, {"who", "who"}, {"kind", "kind"}, {"ref", "ref"}, {"what", "what"}};
  for (std::size_t i = 0; i < page.records.size(); ++i) {
    const auto& r = page.records[i];
    t.add({r.seq, reports::local_minute(r.at, db->zone), r.actor == "system" ? std::string("docketd") : r.actor, r.kind,
           r.ref, summaries[i]});
  }
  if (page.more) t.notes.push_back("(" + more + ")");
  reports::write_text(out, t);
  return 0;
}

namespace {

// The key for verify: --key-file, else where docketd finds it. Null, with
// the reason, when it cannot be read.
struct VerifyKey {
  std::unique_ptr<store::AuditKey> key;
  std::filesystem::path path;
  std::string problem;
};

VerifyKey verify_key(const VerifyOptions& o, const std::filesystem::path& db) {
  VerifyKey k;
  k.path = o.key_file.empty() ? audit_files(db, o.db, o.config).key : std::filesystem::path(o.key_file);
  try {
    k.key = store::load_audit_key(k.path);
  } catch (const store::AuditKeyError& e) {
    k.problem = e.what();
  }
  return k;
}

// The head file to compare with: --head-file, else docketd's when this is
// docketd's database (a backup or a copy has no published head of its own:
// give it --expect-head).
std::filesystem::path verify_head_path(const VerifyOptions& o, const std::filesystem::path& db) {
  if (!o.head_file.empty()) return o.head_file;
  return audit_files(db, o.db, o.config).head;
}

std::string range(std::int64_t from, std::int64_t to) {
  return from == to ? "record " + std::to_string(from) : "records " + std::to_string(from) + " to " + std::to_string(to);
}

// --expect-head SEQ:HASH, as verify printed it; nullopt when not given.
std::optional<std::pair<std::int64_t, std::string>> expected_head(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const auto colon = text.find(':');
  std::int64_t seq = 0;
  try {
    if (colon != std::string::npos) seq = std::stoll(text.substr(0, colon));
  } catch (const std::exception&) {
    seq = 0;
  }
  const std::string hash = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (seq < 1 || hash.size() < 16 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw UsageError("--expect-head must be SEQ:HASH as verify printed it (at least 16 hex digits), found '" + text +
                     "'");
  }
  return std::make_pair(seq, hash);
}

// A trail found broken, or a head file that cannot be trusted.
void print_broken(const store::ChainReport& report, const std::optional<std::string>& head_problem,
                  const std::filesystem::path& file, std::ostream& out) {
  // A head file that docketd did not write comes first: what the trail
  // was compared with cannot be trusted.
  if (head_problem) out << "audit trail BROKEN: the published head cannot be trusted: " << *head_problem << '\n';
  if (report.broken) {
    const auto& b = *report.broken;
    out << (head_problem ? "and at record " : "audit trail BROKEN at record ") << b.seq << ": " << b.what << '\n';
    if (b.seq == 2) out << "record 1 is intact\n";
    if (b.seq > 2) out << "records 1 to " << b.seq - 1 << " are intact\n";
  }
  out << "database: " << file.string() << '\n';
  out << "restore the latest good backup (docket restore FILE) and keep this file for investigation\n";
}

// A trail found whole: what was checked and how, and its head.
void print_verified(const store::ChainReport& report, const std::optional<std::pair<std::int64_t, std::string>>& expect,
                    const VerifyKey& key, const store::HeadFile& head, const std::filesystem::path& head_path,
                    std::ostream& out) {
  const bool complete = report.unchecked == 0;
  out << (complete ? "audit trail intact: " : "audit trail NOT FULLY CHECKED: ") << with_commas(report.records)
      << " records, 1 to " << report.head_seq << '\n';
  if (report.keyed_from > 1) {
    out << "  " << range(1, report.keyed_from - 1) << ": a SHA-256 chain, written before the trail was keyed\n";
  }
  if (report.keyed_from > 0) {
    out << "  " << range(report.keyed_from, report.head_seq) << ": keyed (HMAC-SHA256, key id " << report.key_id << "), "
        << (complete ? "each checked with the key" : "in order and linked, but their contents not checked") << '\n';
  }
  if (!complete) {
    if (report.wrong_key) {
      out << "the key " << key.path.string() << " (id " << key.key->id() << ") is not the one the trail was keyed with"
          << " (id " << report.key_id << "): pass the right one with --key-file PATH\n";
    } else {
      out << key.problem << ".\nThe keyed records need the audit key: run this as the docket user (sudo -u docket "
          << "docket audit verify) or as root, or pass --key-file PATH\n";
    }
  }
  if (head.state == store::HeadFile::State::unauthenticated) {
    out << "published head: record " << head.head.seq << ", published " << store::utc_text(head.head.at) << " ("
        << head_path.string() << "): the trail holds it"
        << (key.key && !report.wrong_key ? "" : " (the file's own MAC not checked without the key)") << '\n';
  } else if (report.keyed_from > 0 && !expect) {
    out << "no published head to compare with (" << head_path.string() << " does not exist): records cut from the end would not show; pass --head-file PATH, or --expect-head SEQ:HASH from a "
        << "signed notice\n";
  }
  if (expect) out << "expected head: record " << expect->first << " holds " << expect->second.substr(0, 16) << "...\n";
  out << "head: " << report.head_seq << ':' << report.head_hash << '\n';
  if (report.keyed_from == 0) {
    out << "(keep the head somewhere docketd cannot write; `docket audit verify --expect-head " << report.head_seq
        << ':' << report.head_hash.substr(0, 16) << "` later also catches records cut from the end)\n";
  }
}

}  // namespace

int audit_verify_command(const VerifyOptions& o, std::ostream& out, std::ostream& err) {
  const auto expect = expected_head(o.expect_head);
  auto db = open_database(o, NeedConfig::no, err, store::Schema::any);  // an old backup verifies as it is
  if (!db) return 2;
  const std::filesystem::path file = db->reader->path();
  VerifyKey key = verify_key(o, file);
  if (!o.key_file.empty() && !key.key) throw UsageError(key.problem);
  const auto head_path = verify_head_path(o, file);
  store::HeadFile head;
  head = store::read_head_file(head_path, nullptr);  // its MAC is checked below, once the key is known to be right
  if (!o.head_file.empty() && head.state == store::HeadFile::State::absent) {
    throw UsageError("--head-file " + o.head_file + " does not exist");
  }

  store::ChainOptions options;
  options.key = key.key.get();
  options.expect_head = expect;
  if (head.state == store::HeadFile::State::unauthenticated) options.published = head.head;
  auto progress = [&](std::int64_t n) { err << "verified " << with_commas(n) << " records\n"; };
  if (o.verbose) options.progress = progress;
  const auto report = store::verify_chain(*db->reader, options);

  // The head file's MAC, with the trail's own key.
  std::optional<std::string> head_problem;
  if (head.state == store::HeadFile::State::bad) {
    head_problem = head.problem;
  } else if (head.state == store::HeadFile::State::unauthenticated && key.key && !report.wrong_key) {
    const auto checked = store::read_head_file(head_path, key.key.get());
    if (checked.state != store::HeadFile::State::authentic) head_problem = checked.problem;
  }

  if (report.broken || head_problem) {
    print_broken(report, head_problem, file, out);
    return 1;
  }
  if (report.records == 0) {
    out << "audit trail empty: no records yet (" << file.string() << ")\n";
    return 0;
  }
  const bool complete = report.unchecked == 0;
  print_verified(report, expect, key, head, head_path, out);
  return complete ? 0 : 3;
}

int audit_show_command(const ShowOptions& o, std::ostream& out, std::ostream& err) {
  const auto format = format_of(o);
  auto db = open_database(o, NeedConfig::no, err);
  if (!db) return 2;
  const auto story = reports::story_of(*db->reader, o.ref, db->config.get());
  if (story.records.empty() && story.heading.empty()) {
    err << "docket: nothing is recorded for '" << o.ref << "' (a review's reference, or a meeting such as "
        << "@executive/2026-06-09)\n";
    return 1;
  }
  reports::WorkflowOf workflow_of(*db->reader);
  const std::string& workflow = workflow_of(o.ref);
  std::vector<std::string> summaries;
  for (const auto& r : story.records) summaries.push_back(reports::describe(r, workflow, db->config.get()));
  if (format == reports::Format::json) {
    json list = json::array();
    for (std::size_t i = 0; i < story.records.size(); ++i) list.push_back(record_json(story.records[i], summaries[i], db->zone));
    out << json{{"ref", o.ref}, {"heading", story.heading}, {"records", list}, {"related", story.related}}.dump(2) << '\n';
    return 0;
  }
  if (format == reports::Format::csv) {
    reports::CsvWriter csv(out);
    reports::write_csv(csv, csv_table(story.records, summaries, db->zone));
    return 0;
  }
  for (const auto& line : story.heading) out << line << '\n';
  out << '\n';
  reports::Table t;
  t.columns = {{"when", "when (" + db->zone->name() + ")"}, {"who", "who"}, {"what", "what happened"}};
  for (std::size_t i = 0; i < story.records.size(); ++i) {
    const auto& r = story.records[i];
    const auto day = reports::local_day(r.at, db->zone);
    t.add({workflows::short_date(day) + " " + reports::local_minute(r.at, db->zone).substr(11),
           reports::actor_text(r.actor, db->config.get()), summaries[i]});
  }
  reports::write_text(out, t);
  if (!story.related.empty()) {
    out << "\nfollow-on reviews:\n";
    for (const auto& line : story.related) out << "  " << line << '\n';
  }
  return 0;
}

}  // namespace docket::cli
