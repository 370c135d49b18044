#pragma once
// The `docket` command line. run_cli() is the whole program minus process
// concerns, so tests can drive it with string streams.
//
// Exit codes: 0 success; 1 the command ran and found problems (an invalid
// configuration); 2 the command line itself was wrong (one clear line).

#include <iosfwd>

namespace docket::cli {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace docket::cli
