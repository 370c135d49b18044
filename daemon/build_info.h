#pragma once
// What this build of docket is: the project's version and the git commit it
// was built from ("unknown" outside a git checkout; "-modified" when the
// tree had uncommitted changes). Written at build time by
// cmake/build_info.cmake; printed by `docket --version`, `docketd --version`
// and `docket version`, and logged when docketd is ready.

#include <string>

namespace docket {

extern const char* const kVersion;
extern const char* const kCommit;

// "docket 0.1.0 (commit 1a2b3c4d5e6f)"
inline std::string version_line(const std::string& program) {
  return program + " " + kVersion + " (commit " + kCommit + ")";
}

}  // namespace docket
