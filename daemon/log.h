#pragma once
// One logger per part of docketd (STYLE.md): the daemon's start-up and stop,
// the control socket and commit pipeline, the engine, delivery and the audit
// trail. Each writes through the sink install_logging() chose (systemd.h:
// the journal, or standard error) at the default logger's level, and can be
// turned up or down alone. Every line starts with its `area.event` name
// (`deadline.overdue ref=RR-2026-014 stage=publish`). Before
// install_logging() (tests, `docket simulate`) every part is spdlog's
// default logger.

#include <spdlog/spdlog.h>

namespace docket::daemon::log {

enum class Part { daemon, server, engine, delivery, audit };

spdlog::logger& of(Part part);
inline spdlog::logger& daemon() { return of(Part::daemon); }
inline spdlog::logger& server() { return of(Part::server); }
inline spdlog::logger& engine() { return of(Part::engine); }
inline spdlog::logger& delivery() { return of(Part::delivery); }
inline spdlog::logger& audit() { return of(Part::audit); }

// Makes each part's logger from the default logger (its sinks, level and
// pattern); install_logging() calls it once, before any thread starts.
void make_parts();

}  // namespace docket::daemon::log
