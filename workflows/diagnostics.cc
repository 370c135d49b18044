#include "workflows/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace docket::workflows {

std::string format(const Diagnostic& d, const std::string& prefix) {
  std::string path = d.where.file;
  if (!prefix.empty()) {
    path = prefix + (prefix.back() == '/' ? "" : "/") + path;
  }
  std::string out = path;
  if (d.where.line > 0) {
    out += ':' + std::to_string(d.where.line) + ':' + std::to_string(d.where.column);
  }
  return out + ": " + d.message;
}

void Diagnostics::error(SourcePos where, std::string message) {
  list_.push_back({std::move(where), std::move(message)});
}

void Diagnostics::append(const Diagnostics& other) {
  list_.insert(list_.end(), other.list_.begin(), other.list_.end());
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  auto out = list_;
  auto key = [](const Diagnostic& d) {
    return std::tie(d.where.file, d.where.line, d.where.column, d.message);
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  out.erase(std::unique(out.begin(), out.end(),
                        [&](const Diagnostic& a, const Diagnostic& b) { return key(a) == key(b); }),
            out.end());
  return out;
}

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string c = closest(word, candidates);
  return c.empty() ? std::string{} : ", did you mean '" + c + "'?";
}

std::string unknown(const std::string& what, const std::string& word, const std::vector<std::string>& candidates,
                    const std::string& lead) {
  std::string out = "unknown " + what + " '" + word + "'" + did_you_mean(word, candidates);
  if (!candidates.empty()) {
    out += " (expected " + lead + (candidates.size() > 1 ? "one of: " : "") + one_of(candidates) + ")";
  } else if (!lead.empty()) {
    out += " (expected " + lead.substr(0, lead.size() - 4) + ")";
  }
  return out;
}

std::string one_of(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += (i + 1 == words.size()) ? " or " : ", ";
    out += words[i];
  }
  return out;
}

}  // namespace docket::workflows
