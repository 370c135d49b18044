#pragma once
// Problems found while loading configuration, each tied to a place in a file.
//
// The loader never stops at the first problem: administrators fix a whole file
// in one pass, so every error is collected and printed as
// `file:line:column: what is wrong, what was expected`.

#include <cstdint>
#include <string>
#include <vector>

namespace docket::workflows {

struct SourcePos {
  std::string file;  // relative to the configuration directory
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

struct Diagnostic {
  SourcePos where;
  std::string message;
};

// `file:line:column: message`, with `prefix` (usually the configuration
// directory as the user typed it) joined in front of the file name.
std::string format(const Diagnostic& d, const std::string& prefix = {});

class Diagnostics {
 public:
  void error(SourcePos where, std::string message);
  bool empty() const { return list_.empty(); }
  std::size_t size() const { return list_.size(); }
  // Sorted by file, line and column; duplicates removed.
  std::vector<Diagnostic> sorted() const;
  void append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> list_;
};

// The closest of `candidates` to `word` by edit distance, if close enough to
// be worth suggesting ("did you mean ...?"); empty otherwise.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

// ", did you mean 'x'?" or "" — appended to "unknown ..." messages.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// "a, b or c" — for "expected one of" lists.
std::string one_of(const std::vector<std::string>& words);

}  // namespace docket::workflows
