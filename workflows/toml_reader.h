#pragma once
// Reading the configuration's TOML files with every problem recorded at its
// source position: a file parsed (a syntax error reported once, in plain
// words), and one table read through typed getters that name the key, the
// type found and an example of what was expected. Shared by the loader's
// readers (daemon settings, directory, calendars, workflow definitions) and
// the scenarios of daemon/simulate. Internal to docket.

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "workflows/diagnostics.h"
#include "workflows/duration.h"

namespace docket::workflows::detail {

// One configuration file: its path relative to the configuration directory
// (as diagnostics name it), its text (hashed for the audit trail) and its
// parsed table.
struct ParsedFile {
  std::string rel;
  std::string text;
  toml::table table;
};

// Parses one file's text; a syntax error is recorded and yields nullopt.
std::optional<ParsedFile> parse_text(const std::string& rel, std::string text, Diagnostics& diags);
// Reads and parses DIR/rel; an unreadable file or a syntax error is recorded
// and yields nullopt.
std::optional<ParsedFile> parse_file(const std::filesystem::path& dir, const std::string& rel, Diagnostics& diags);
// "sub/NAME.toml" for every .toml file in DIR/sub, sorted; none when there is
// no such directory.
std::vector<std::string> toml_files_in(const std::filesystem::path& dir, const std::string& sub);
// The file's name without directory or .toml: what its id must be.
std::string stem(const std::string& rel);

// The value `word` names in `choices` ({"local", Limit::local}, ...), or
// nullopt when it names none.
template <class T>
std::optional<T> lookup(std::string_view word, std::initializer_list<std::pair<std::string_view, T>> choices) {
  for (const auto& [name, value] : choices) {
    if (word == name) return value;
  }
  return std::nullopt;
}

// Where `n` starts in `file`.
SourcePos position(const std::string& file, const toml::node& n);

class Reader {
 public:
  // `what` names the table in messages: "stage 'publish'", "the calendar".
  Reader(const toml::table& table, std::string file, Diagnostics& diags, std::string what);

  const std::string& what() const { return what_; }
  const std::string& file() const { return file_; }
  Diagnostics& diags() const { return diags_; }
  const toml::table& table() const { return table_; }

  SourcePos pos() const { return pos(table_); }
  SourcePos pos(const toml::node& n) const;
  // The column of byte `offset` inside a single-line string value.
  SourcePos pos_in(const toml::node& n, std::size_t offset) const;
  void error(const toml::node& n, std::string message) const { diags_.error(pos(n), std::move(message)); }

  // Marks `key` as known and returns its node, if present.
  const toml::node* get(std::string_view key);
  // Marks keys as known without reading them (they are read elsewhere).
  void known(std::initializer_list<std::string_view> keys);

  // Typed getters: on a missing required key or a wrong type they record an
  // error and return nullopt. `example` completes "expected ..." messages.
  std::optional<std::string> string(std::string_view key, bool required = false, std::string_view example = {});
  std::optional<std::string> id(std::string_view key, bool required = true);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key, bool required = false);
  // An optional whole number in [low, high].
  std::optional<std::int64_t> integer_in(std::string_view key, std::int64_t low, std::int64_t high);
  std::optional<std::vector<std::string>> strings(std::string_view key);
  std::optional<Duration> duration(std::string_view key, bool required = false, bool positive = true);
  std::optional<DueRule> due(std::string_view key, bool required = true);
  const toml::table* subtable(std::string_view key);
  const toml::array* array(std::string_view key);
  // Calls read(table) for each table of the array `key` ([[key]]); an item
  // that is not a table is an error worded `not_a_table`.
  template <class Read>
  void tables(std::string_view key, const std::string& not_a_table, Read read) {
    const toml::array* arr = array(key);
    if (arr == nullptr) return;
    for (const auto& item : *arr) {
      if (const toml::table* t = item.as_table()) {
        read(*t);
      } else {
        error(item, not_a_table);
      }
    }
  }

  // Reports every key that was never asked for, with the closest known key.
  void finish();

  static std::string type_name(const toml::node& n);
  static bool valid_id(std::string_view s);

 private:
  const toml::table& table_;
  std::string file_;
  Diagnostics& diags_;
  std::string what_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace docket::workflows::detail
