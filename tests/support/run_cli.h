#pragma once
// The `docket` command line run in-process, as the CLI tests drive it.

#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace docket::testing {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

// Runs `docket ARGS...` through cli::run_cli and captures both streams.
inline CliRun docket(std::vector<std::string> args) {
  args.insert(args.begin(), "docket");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = cli::run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

}  // namespace docket::testing
