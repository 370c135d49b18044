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

// "unknown stage 'pubish', did you mean 'publish'? (expected start or one of:
// send-to-panel or publish)": the one way docket words a name it does not know.
// `lead` starts the expected list ("start, date.NAME or "); empty candidates
// and lead leave the parenthesis out.
std::string unknown(const std::string& what, const std::string& word, const std::vector<std::string>& candidates,
                    const std::string& lead = {});

// "a, b or c" — for "expected one of" lists.
std::string one_of(const std::vector<std::string>& words);

}  // namespace docket::workflows
