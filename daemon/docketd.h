#pragma once
// docketd's start-up, one readable sequence (after Kea's d_controller
// launch()), each step a function of its own in docketd.cc that fails with
// its own message and exit code: parse_arguments -> load_configuration
// (--check-config stops here) -> start_clock (a rehearsal's, if asked) ->
// open_store (lock, check, open and migrate) -> recover (the engine from the
// store; what fell due while stopped is caught up once serving) -> serve
// until SIGTERM or SIGINT (daemon/server.h, daemon/commit_pipeline.h) ->
// shut_down.
//
// Before it writes to the database docketd checks it: SQLite's quick_check,
// and the audit trail against the head it last published
// (daemon/audit_anchor.h). On damage it refuses to start, saying what is
// wrong and how to restore a backup.
//
// Exit codes: 0 clean stop; 1 runtime failure; 2 bad arguments or
// configuration; 65 the database is damaged or its audit trail does not
// verify (restarting will not help: restore a backup); 70 the store failed
// mid-run (restart recovers).

namespace docket::daemon {

int run_docketd(int argc, const char* const* argv);

}  // namespace docket::daemon
