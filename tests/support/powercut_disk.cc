// Reads the power-cut recorder's journal and writes the disk a power cut
// could have left (the model is described in powercut_disk.h).

#include "tests/support/powercut_disk.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>

namespace docket::testing::powercut {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kPage = 4096;
constexpr std::size_t kSector = 512;
constexpr std::size_t kSectorsPerPage = kPage / kSector;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool is_name_change(RecordType t) {
  return t == RecordType::create || t == RecordType::unlink || t == RecordType::rename;
}

bool is_content_change(RecordType t) {
  return t == RecordType::write || t == RecordType::truncate || t == RecordType::extend;
}

// A change to a file's contents, as far as it went.
struct Change {
  std::size_t position = 0;  // the index of its result; past the journal's end for one under way
  RecordType type = RecordType::write;
  std::uint64_t offset = 0;
  std::string_view data;  // a write's bytes, as many as it wrote
  bool in_flight = false;
};

// rename's payload: old name, NUL, new name.
std::pair<std::string, std::string> rename_names(std::string_view payload) {
  const auto nul = payload.find('\0');
  if (nul == std::string_view::npos) throw std::runtime_error("a rename record without its second name");
  return {std::string(payload.substr(0, nul)), std::string(payload.substr(nul + 1))};
}

// One file's bytes through a change.
void apply(std::string& bytes, const Change& r) {
  switch (r.type) {
    case RecordType::write: {
      const std::size_t end = r.offset + r.data.size();
      if (bytes.size() < end) bytes.resize(end, '\0');
      std::memcpy(bytes.data() + r.offset, r.data.data(), r.data.size());
      break;
    }
    case RecordType::truncate:
      bytes.resize(r.offset, '\0');
      break;
    case RecordType::extend:
      if (bytes.size() < r.offset) bytes.resize(r.offset, '\0');
      break;
    default:
      break;
  }
}

// The pages a change touches, given the size before it.
std::pair<std::size_t, std::size_t> pages_touched(const Change& r, std::size_t size_before) {
  std::size_t from = 0, to = 0;  // [from, to)
  switch (r.type) {
    case RecordType::write:
      from = r.offset;
      to = r.offset + r.data.size();
      break;
    default:  // a resize touches the pages between the two sizes
      from = std::min<std::size_t>(size_before, r.offset);
      to = std::max<std::size_t>(size_before, r.offset);
      break;
  }
  if (to <= from) return {0, 0};
  return {from / kPage, (to - 1) / kPage + 1};
}

std::string page_of(const std::string& bytes, std::size_t page) {
  std::string p(kPage, '\0');
  const std::size_t at = page * kPage;
  if (at < bytes.size()) std::memcpy(p.data(), bytes.data() + at, std::min(kPage, bytes.size() - at));
  return p;
}

std::size_t uniform(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {  // [lo, hi]
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

// A file as the cut left it: its durable bytes, then its unsynced changes
// page by page.
std::string file_after_cut(std::string bytes, const std::vector<const Change*>& durable,
                           const std::vector<const Change*>& pending, const DiskModel& model, std::mt19937_64& rng,
                           DiskStats& stats) {
  for (const auto* r : durable) apply(bytes, *r);
  if (pending.empty()) return bytes;
  std::string latest = bytes;
  std::vector<std::size_t> sizes{latest.size()};
  std::map<std::size_t, std::vector<std::string>> versions;  // page -> its content after each change to it
  for (const auto* r : pending) {
    const std::size_t before = latest.size();
    apply(latest, *r);
    const auto [from, to] = pages_touched(*r, before);
    for (std::size_t p = from; p < to; ++p) versions[p].push_back(page_of(latest, p));
    sizes.push_back(latest.size());
  }
  std::size_t size_after = sizes.back();
  if (model.unsynced == DiskModel::Unsynced::dropped) size_after = sizes.front();
  if (model.unsynced == DiskModel::Unsynced::random) size_after = sizes[uniform(rng, 0, sizes.size() - 1)];

  std::string out = bytes;
  out.resize(std::max(out.size(), *std::max_element(sizes.begin(), sizes.end())), '\0');
  for (const auto& [page, vs] : versions) {
    enum { drop, keep, tear } what = drop;
    std::size_t v = vs.size();  // 1-based version written
    if (model.unsynced == DiskModel::Unsynced::kept) what = keep;
    if (model.unsynced == DiskModel::Unsynced::random) {
      what = static_cast<decltype(what)>(uniform(rng, 0, 2));
      if (what != drop && vs.size() > 1 && uniform(rng, 0, 1) == 0) v = uniform(rng, 1, vs.size());
    }
    if (what == drop) {
      ++stats.pages_dropped;
      continue;
    }
    const std::string& newer = vs[v - 1];
    const std::size_t at = page * kPage;
    const std::size_t n = std::min(kPage, out.size() - at);
    if (what == keep) {
      ++stats.pages_kept;
      std::memcpy(out.data() + at, newer.data(), n);
      continue;
    }
    ++stats.pages_torn;
    const auto mask = uniform(rng, 1, (1u << kSectorsPerPage) - 2);  // some sectors new, some old
    for (std::size_t s = 0; s < kSectorsPerPage; ++s) {
      if ((mask >> s & 1u) == 0 || s * kSector >= n) continue;
      std::memcpy(out.data() + at + s * kSector, newer.data() + s * kSector, std::min(kSector, n - s * kSector));
    }
  }
  out.resize(size_after, '\0');
  return out;
}

}  // namespace

Journal::Journal(const fs::path& path) : bytes_(read_file(path)) {
  std::size_t at = 0;
  while (at < bytes_.size()) {
    Record h{};
    if (bytes_.size() - at < sizeof h) break;
    std::memcpy(&h, bytes_.data() + at, sizeof h);
    if (h.magic != kRecordMagic) {
      throw std::runtime_error(path.string() + ": no record at byte " + std::to_string(at));
    }
    if (bytes_.size() - at - sizeof h < h.length) break;
    const char* payload = bytes_.data() + at + sizeof h;
    Record zeroed = h;
    zeroed.checksum = 0;
    const std::uint32_t sum = checksum_add(checksum_add(kChecksumSeed, &zeroed, sizeof zeroed), payload, h.length);
    if (sum != h.checksum) {
      throw std::runtime_error(path.string() + ": the record at byte " + std::to_string(at) + " is damaged");
    }
    records_.push_back({static_cast<RecordType>(h.type), h.file, h.flags, h.offset, {payload, h.length}});
    at += sizeof h + h.length;
  }
  torn_tail_ = bytes_.size() - at;
}

std::vector<std::string> Journal::unsupported() const {
  std::vector<std::string> out;
  for (const auto& r : records_) {
    if (r.type == RecordType::unsupported) out.emplace_back(r.payload);
  }
  return out;
}

std::optional<std::size_t> Journal::mark(std::string_view label) const {
  for (std::size_t i = 0; i < records_.size(); ++i) {
    if (records_[i].type == RecordType::mark && records_[i].payload == label) return i;
  }
  return std::nullopt;
}

std::int64_t Journal::bytes_written() const {
  std::int64_t n = 0;
  for (const auto& r : records_) {
    if (r.type == RecordType::write) n += static_cast<std::int64_t>(r.payload.size());
  }
  return n;
}

std::int64_t Journal::syncs() const {
  return std::count_if(records_.begin(), records_.end(),
                       [](const JournalRecord& r) { return r.type == RecordType::sync_end; });
}

void append_record(const fs::path& journal, RecordType type, std::uint32_t file, std::uint32_t flags,
                   std::uint64_t offset, std::string_view payload) {
  Record h{kRecordMagic, static_cast<std::uint32_t>(type),           file, flags,
           offset,       static_cast<std::uint32_t>(payload.size()), 0};
  h.checksum = checksum_add(checksum_add(kChecksumSeed, &h, sizeof h), payload.data(), payload.size());
  std::string record(reinterpret_cast<const char*>(&h), sizeof h);
  record += payload;
  const int fd = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + journal.string() + " to append to it");
  const ssize_t n = ::write(fd, record.data(), record.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(record.size())) throw std::runtime_error("cannot append to " + journal.string());
}

DiskStats& DiskStats::operator+=(const DiskStats& o) {
  files += o.files;
  pages_dropped += o.pages_dropped;
  pages_kept += o.pages_kept;
  pages_torn += o.pages_torn;
  names_pending += o.names_pending;
  names_kept += o.names_kept;
  return *this;
}

DiskStats write_disk(const Journal& journal, const fs::path& before, const fs::path& out, const DiskModel& model,
                     std::mt19937_64& rng) {
  const auto& records = journal.records();
  DiskStats stats;

  // Which syncs count: those that returned without error, and (for a lying
  // disk) began before the mark. For each, the index it began at.
  std::size_t honest_until = records.size();
  if (!model.syncs_ignored_after_mark.empty()) {
    auto m = journal.mark(model.syncs_ignored_after_mark);
    if (!m) throw std::runtime_error("no mark '" + model.syncs_ignored_after_mark + "' in the journal");
    honest_until = *m;
  }
  std::map<std::uint64_t, std::pair<std::size_t, std::uint32_t>> begun;  // sync number -> (index, file)
  std::map<std::uint32_t, std::size_t> durable_before;                   // file (or kDirectory, kAllFiles) -> index
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.type == RecordType::sync_begin) begun[r.offset] = {i, r.file};
    if (r.type != RecordType::sync_end || (r.flags & kSyncFailed) != 0) continue;
    auto b = begun.find(r.offset);
    if (b == begun.end()) throw std::runtime_error("a sync ended that never began");
    const auto [at, file] = b->second;
    if (at > honest_until) continue;
    durable_before[file] = std::max(durable_before[file], at);
  }
  auto cutoff = [&](std::uint32_t file) {
    std::size_t c = 0;
    for (auto key : {file, kAllFiles}) {
      if (auto it = durable_before.find(key); it != durable_before.end()) c = std::max(c, it->second);
    }
    return c;
  };

  // Files are inodes: those in `before` first, then one per file created.
  // Each journal file number refers to one of them.
  std::vector<std::string> initial;               // inode -> its bytes when recording began
  std::map<std::string, std::size_t> names;       // the directory as docketd left it: name -> inode
  std::map<std::uint32_t, std::size_t> inode_of;  // journal file -> inode
  if (!before.empty() && fs::exists(before)) {
    for (const auto& e : fs::directory_iterator(before)) {
      if (!e.is_regular_file()) continue;
      names[e.path().filename().string()] = initial.size();
      initial.push_back(read_file(e.path()));
    }
  }
  const std::map<std::string, std::size_t> names_before = names;
  std::vector<const JournalRecord*> name_changes;
  std::vector<std::size_t> name_change_index;
  std::vector<std::vector<Change>> changes;  // inode -> its changes
  changes.resize(initial.size());
  std::map<std::uint32_t, std::pair<std::size_t, std::uint64_t>> results;  // change number -> (index, result)
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].type == RecordType::done) results.emplace(records[i].flags, std::pair(i, records[i].offset));
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.type == RecordType::create) {
      inode_of[r.file] = initial.size();
      names[std::string(r.payload)] = initial.size();
      initial.emplace_back();
      changes.emplace_back();
    } else if (r.type == RecordType::open) {
      auto it = names.find(std::string(r.payload));
      if (it == names.end()) {
        throw std::runtime_error("the journal opens '" + std::string(r.payload) + "', which was never there");
      }
      inode_of[r.file] = it->second;
    } else if (r.type == RecordType::unlink) {
      names.erase(std::string(r.payload));
    } else if (r.type == RecordType::rename) {
      auto [from, to] = rename_names(r.payload);
      auto it = names.find(from);
      if (it != names.end()) {
        const std::size_t inode = it->second;
        names.erase(it);
        names[to] = inode;
      }
    } else if (is_content_change(r.type)) {
      auto it = inode_of.find(r.file);
      if (it == inode_of.end()) throw std::runtime_error("a change to a file the journal never opened");
      Change c{records.size() + i, r.type, r.offset, r.payload, true};
      if (auto done = results.find(r.flags); done != results.end()) {
        const auto [at, result] = done->second;
        if (result == 0) continue;  // it failed
        c.position = at;
        c.in_flight = false;
        if (r.type == RecordType::write) c.data = r.payload.substr(0, result);
      }
      if (!c.in_flight || model.in_flight) changes[it->second].push_back(c);
    }
    if (is_name_change(r.type)) {
      name_changes.push_back(&r);
      name_change_index.push_back(i);
    }
  }
  // Each inode's cutoff: the latest sync of any journal file that is it.
  std::vector<std::size_t> inode_cutoff(initial.size(), cutoff(kAllFiles));
  for (const auto& [file, inode] : inode_of) inode_cutoff[inode] = std::max(inode_cutoff[inode], cutoff(file));

  // The directory after the cut: its durable name changes, then a prefix
  // of the others.
  const std::size_t dir_cutoff = cutoff(kDirectory);
  std::size_t durable_names = 0;
  while (durable_names < name_changes.size() && name_change_index[durable_names] < dir_cutoff) ++durable_names;
  std::size_t kept_names = durable_names;
  if (model.unsynced == DiskModel::Unsynced::kept) kept_names = name_changes.size();
  if (model.unsynced == DiskModel::Unsynced::random) kept_names = uniform(rng, durable_names, name_changes.size());
  stats.names_pending = static_cast<std::int64_t>(name_changes.size() - durable_names);
  stats.names_kept = static_cast<std::int64_t>(kept_names - durable_names);
  std::map<std::string, std::size_t> after = names_before;
  std::size_t next_created = names_before.size();  // inodes of created files follow those of `before` in order
  for (std::size_t i = 0; i < name_changes.size(); ++i) {
    const auto& r = *name_changes[i];
    const bool applied = i < kept_names;
    if (r.type == RecordType::create) {
      if (applied) after[std::string(r.payload)] = next_created;
      ++next_created;
    } else if (applied && r.type == RecordType::unlink) {
      after.erase(std::string(r.payload));
    } else if (applied && r.type == RecordType::rename) {
      auto [from, to] = rename_names(r.payload);
      auto it = after.find(from);
      if (it != after.end()) {
        const std::size_t inode = it->second;
        after.erase(it);
        after[to] = inode;
      }
    }
  }

  for (const auto& [name, inode] : after) {
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, "-shm") == 0) continue;
    // In the order they returned (those under way last, as they began).
    auto& cs = changes[inode];
    std::stable_sort(cs.begin(), cs.end(), [](const Change& a, const Change& b) { return a.position < b.position; });
    std::vector<const Change*> durable, pending;
    for (const auto& c : cs) (c.position < inode_cutoff[inode] ? durable : pending).push_back(&c);
    const std::string bytes = file_after_cut(initial[inode], durable, pending, model, rng, stats);
    const fs::path p = out / name;
    {
      std::ofstream f(p, std::ios::binary | std::ios::trunc);
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!f) throw std::runtime_error("cannot write " + p.string());
    }
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    ++stats.files;
  }
  return stats;
}

}  // namespace docket::testing::powercut
