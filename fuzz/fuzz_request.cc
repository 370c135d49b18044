// The control protocol on hostile input: each input is what a client sends
// on the socket, split into lines as the server splits it. Every line goes
// through parse_request; every request that parses is dispatched by the
// command registry to an engine (in memory, on a virtual clock, the shipped
// configuration) for the business manager, who may run nearly everything.
// A reply must always be produced: no crash, no exception past the
// dispatcher, no undefined behaviour.
//
// `clock` is left out: advancing a rehearsal clock by years is allowed and
// slow by design, which the fuzzer would report as a timeout.

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "daemon/commands.h"
#include "workflows/config.h"

namespace {

using namespace docket;

struct World {
  std::shared_ptr<const workflows::Config> config;
  std::unique_ptr<daemon::VirtualClock> clock;
  std::unique_ptr<daemon::Engine> engine;
  daemon::CommandRegistry registry;
  daemon::Caller manager;
  int inputs = 0;
};
World* world = nullptr;

void fresh_engine() {
  // 2026-03-02T08:00Z: a Monday.
  world->clock = std::make_unique<daemon::VirtualClock>(daemon::Instant{std::chrono::seconds{1772438400}});
  world->engine = std::make_unique<daemon::Engine>(world->config, *world->clock);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world = new World;  // lives for the whole run
  world->config = workflows::load_config(std::filesystem::path(DOCKET_SOURCE_DIR) / "config").config;
  if (!world->config) std::abort();
  const auto* p = world->config->directory.person_by_unix_user("root");
  if (p == nullptr) std::abort();
  world->manager = daemon::Caller{p->id, p->roles};
  fresh_engine();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Reviews pile up across inputs; start afresh now and then so each run
  // stays small.
  if (++world->inputs % 5000 == 0) fresh_engine();
  daemon::Services services{*world->engine, *world->clock, world->clock.get(),
                            [](const daemon::Caller&, store::Batch&) {
                              return daemon::Result::fail("reload is not fuzzed");
                            },
                            {},
                            {}};
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::size_t at = 0;
  while (at <= input.size()) {
    std::size_t end = input.find('\n', at);
    if (end == std::string::npos) end = input.size();
    std::string line = input.substr(at, end - at);
    at = end + 1;
    auto parsed = daemon::parse_request(line);
    if (auto* err = std::get_if<std::string>(&parsed)) {
      (void)daemon::reply_line(nullptr, daemon::Result::fail(*err));
      continue;
    }
    auto& request = std::get<daemon::Request>(parsed);
    if (request.command == "clock") continue;
    store::Batch batch;
    auto result = world->registry.dispatch(services, world->manager, request, batch);
    (void)daemon::reply_line(request.id, result);
    world->engine->committed();
  }
  return 0;
}
