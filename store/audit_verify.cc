// `docket audit verify` and docketd's check at start: the walk along the
// hash chain (verify_chain, store/audit_query.h), record by record, that
// names the first broken link, and then the published and noted heads.

#include "store/audit_query.h"

#include "store/rows.h"

namespace docket::store {
namespace {

constexpr const char* kAuditColumns = "seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash";

std::string count_text(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The key id an audit.keyed record names.
std::string key_id_of(const std::string& details) {
  static const std::string tag = R"("key_id":")";
  const auto at = details.find(tag);
  if (at == std::string::npos) return {};
  const auto from = at + tag.size();
  const auto end = details.find('"', from);
  return end == std::string::npos ? std::string{} : details.substr(from, end - from);
}

std::optional<AuditRecord> record_at(Reader& reader, std::int64_t seq) {
  auto s = reader.db().prepare(std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq = ?1");
  s.bind(1, seq);
  if (!s.step()) return std::nullopt;
  return audit_row(s);
}

std::string on(std::int64_t at) { return utc_text(at); }

// One verify_chain(): the walk's state from record to record, and its steps.
class ChainWalk {
 public:
  ChainWalk(Reader& reader, const ChainOptions& o) : reader_(reader), o_(o), key_(o.key) {}

  ChainReport run() {
    if (o_.from && !start_after(*o_.from)) return std::move(rep_);
    walk();
    if (!rep_.broken && o_.published) check_published(*o_.published);
    if (!rep_.broken && o_.expect_head) check_noted(o_.expect_head->first, o_.expect_head->second);
    return std::move(rep_);
  }

 private:
  void fail(std::int64_t seq, std::string what) { rep_.broken = ChainBreak{seq, std::move(what)}; }

  void keyed_at(const AuditRecord& marker) {
    keyed_ = true;
    rep_.keyed_from = marker.seq;
    rep_.key_id = key_id_of(marker.details);
    if (key_ != nullptr && rep_.key_id != key_->id()) {
      rep_.wrong_key = true;  // its records are then checked as without a key
      key_ = nullptr;
    }
  }

  // From a point verified before: it and the keyed trail's start must be as
  // they were. False when they are not.
  bool start_after(const VerifiedPoint& f) {
    const auto verified = record_at(reader_, f.seq);
    if (!verified || verified->hash != f.hash) {
      fail(f.seq, "record " + std::to_string(f.seq) + ", verified when docketd last started, " +
                      (verified ? "has changed since" : "is gone") +
                      ": records were edited, rewritten or deleted behind docketd's back");
      return false;
    }
    if (f.keyed_from > 0) {
      const auto marker = record_at(reader_, f.keyed_from);
      if (!marker || marker->kind != kKeyedKind) {
        fail(f.keyed_from, "record " + std::to_string(f.keyed_from) +
                               ", where the keyed trail began when docketd last started, is no longer its "
                               "audit.keyed record: the trail was rewritten");
        return false;
      }
      keyed_at(*marker);
    }
    expected_ = f.seq + 1;
    prev_ = f.hash;
    rep_.head_seq = f.seq;
    rep_.head_hash = f.hash;
    return true;
  }

  // Every record from expected_ on, in order, up to the first broken link.
  void walk() {
    auto s = reader_.db().prepare(std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq >= ?1 ORDER BY seq");
    s.bind(1, expected_);
    while (s.step()) {
      AuditRecord r = audit_row(s);
      ++rep_.records;
      if (!check(r)) break;
      before_prev_ = prev_;
      prev_ = r.hash;
      expected_ = r.seq + 1;
      rep_.head_seq = r.seq;
      rep_.head_hash = r.hash;
      if (o_.progress && rep_.records % 1000000 == 0) o_.progress(rep_.records);
    }
  }

  // One record: in sequence, linked to the one before, with the right hash.
  bool check(const AuditRecord& r) {
    if (r.seq != expected_) {
      missing(r.seq);
      return false;
    }
    if (!keyed_ && r.kind == kKeyedKind) keyed_at(r);
    const std::string at = "record " + std::to_string(r.seq);
    // Whether its hash is right: unknown for a keyed record without the key.
    std::optional<bool> content_ok;
    if (!keyed_) {
      content_ok = audit_hash(r) == r.hash;
    } else if (key_ != nullptr) {
      content_ok = audit_hash(r, *key_) == r.hash;
    }
    // docketd never writes a keyed record with a plain SHA-256: whoever did
    // had no key. Caught with the key or without.
    const bool plain = keyed_ && !content_ok.value_or(false) && audit_hash(r) == r.hash;
    if (r.prev_hash != prev_) {
      link_broken(r, content_ok.value_or(true) && !plain);
      return false;
    }
    if (plain) {
      fail(r.seq, at + " was forged: it carries a plain SHA-256 hash, but the trail is keyed from record " +
                      std::to_string(rep_.keyed_from) +
                      " on and docketd writes every later record with the audit key (it was written by someone "
                      "without the key)");
      return false;
    }
    if (content_ok && !*content_ok) {
      fail(r.seq, keyed_ ? at + " was edited or forged: its hash is not the one the audit key gives (written by "
                                "someone without the key)"
                         : at + " was edited: its contents no longer match its hash");
      return false;
    }
    if (!content_ok) ++rep_.unchecked;
    return true;
  }

  // The sequence jumps from expected_ - 1 to `seq`.
  void missing(std::int64_t seq) {
    const std::int64_t count = seq - expected_;
    fail(expected_, (count == 1 ? "record " + std::to_string(expected_) + " is missing"
                                : "records " + std::to_string(expected_) + " to " + std::to_string(seq - 1) +
                                      " are missing") +
                        ": the sequence jumps from " + std::to_string(expected_ - 1) + " to " + std::to_string(seq) +
                        " (" + count_text(count, "record was", "records were") + " deleted)");
  }

  // `r` is not chained to the record before it: which of the two is wrong.
  // `own_hash_right`: r's own hash is right (or cannot be checked).
  void link_broken(const AuditRecord& r, bool own_hash_right) {
    const std::string at = "record " + std::to_string(r.seq);
    const std::string before = "record " + std::to_string(r.seq - 1);
    if (r.seq == 1) {
      fail(1, "record 1 was altered: the first record must have an empty previous hash");
    } else if (before_prev_ && r.prev_hash == *before_prev_) {
      fail(r.seq - 1, before + " was inserted: " + at + " is chained to record " + std::to_string(r.seq - 2) +
                          ", as if " + before + " were not there");
    } else if (own_hash_right) {
      fail(r.seq - 1, before + " was altered: its hash is no longer the one " + at +
                          " was chained to (edited and rehashed, or replaced)");
    } else {
      fail(r.seq, at + " was altered: neither its link to " + before +
                      " nor its own hash is right (edited, or renumbered after a record before it was deleted "
                      "or inserted)");
    }
  }

  // The head file's: nothing cut from the end, nothing rewritten up to it,
  // keyed from the same record.
  void check_published(const PublishedHead& p) {
    const std::string when = " on " + on(p.at);
    if (p.seq > rep_.head_seq) {
      fail(rep_.head_seq + 1,
           rep_.head_seq == 0
               ? "the trail is empty, but docketd published record " + std::to_string(p.seq) + when +
                     ": every record was deleted"
               : "the trail ends at record " + std::to_string(rep_.head_seq) + ", but docketd published record " +
                     std::to_string(p.seq) + when + ": records were cut from the end (at least " +
                     std::to_string(rep_.head_seq + 1) + " to " + std::to_string(p.seq) + ")");
    } else if (p.seq > 0) {
      const auto r = record_at(reader_, p.seq);
      if (!r || r->hash != p.hash) {
        fail(p.seq, "record " + std::to_string(p.seq) + "'s hash is not the one docketd published" + when +
                        ": the trail was rewritten up to it, every later hash recomputed");
      }
    }
    if (!rep_.broken && p.keyed_from > 0 && rep_.keyed_from != p.keyed_from) {
      fail(p.keyed_from, "docketd published a trail keyed from record " + std::to_string(p.keyed_from) + ", but " +
                             (rep_.keyed_from == 0 ? std::string("this trail has no audit.keyed record")
                                                   : "its audit.keyed record is record " +
                                                         std::to_string(rep_.keyed_from)) +
                             ": it was rewritten");
    }
  }

  // SEQ:HASH as a previous run printed: still there, still the same.
  void check_noted(std::int64_t seq, const std::string& hash) {
    if (seq > rep_.head_seq) {
      fail(rep_.head_seq + 1, "the trail ends at record " + std::to_string(rep_.head_seq) + " but record " +
                                  std::to_string(seq) + " was noted before: records were removed from the end");
      return;
    }
    const auto r = record_at(reader_, seq);
    if (!r || !r->hash.starts_with(hash)) {
      fail(seq, "record " + std::to_string(seq) + "'s hash is not the one noted (" + hash.substr(0, 16) +
                    "...): the trail was rewritten up to it, every later hash recomputed");
    }
  }

  Reader& reader_;
  const ChainOptions& o_;
  const AuditKey* key_;  // null without a key, or when it is not the trail's
  ChainReport rep_;
  std::int64_t expected_ = 1;
  std::string prev_;                         // hash of record expected_ - 1; empty before the first
  std::optional<std::string> before_prev_;  // hash of record expected_ - 2
  bool keyed_ = false;
};

}  // namespace

ChainReport verify_chain(Reader& reader, const ChainOptions& o) { return ChainWalk(reader, o).run(); }

ChainReport verify_chain(Reader& reader, const std::optional<std::pair<std::int64_t, std::string>>& expect_head,
                         const std::function<void(std::int64_t)>& progress) {
  ChainOptions o;
  o.expect_head = expect_head;
  o.progress = progress;
  return verify_chain(reader, o);
}

}  // namespace docket::store
