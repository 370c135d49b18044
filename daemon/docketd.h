#pragma once
// docketd's start-up, one readable sequence (after Kea's d_controller):
// parse arguments -> load and validate the configuration (--check-config
// stops here) -> open and migrate the store -> recover and catch up on what
// fell due while stopped -> serve until SIGTERM or SIGINT.
//
// Exit codes: 0 clean stop; 1 runtime failure; 2 bad arguments or
// configuration; 70 the store failed mid-run (restart recovers).

namespace docket::daemon {

int run_docketd(int argc, const char* const* argv);

}  // namespace docket::daemon
