// A refused event is never silently ignored: pause, resume and cancel check
// every open deadline of the review before they change any, and a deadline
// that refuses the event makes the command fail with the machine's reason,
// leaving memory and the batch as they were.

#include <gtest/gtest.h>

#include <memory>

#include "daemon/engine.h"
#include "store/store.h"
#include "tests/support/process.h"
#include "tests/support/rehearsal.h"

namespace docket::daemon {
namespace {

using testing::london;
using testing::shipped_config_loaded;
using nlohmann::json;

const Caller kManager{"a-morgan", {"business-manager", "administrator"}};

StartArgs sar(const std::string& ref) {
  StartArgs a;
  a.workflow = "sar";
  a.ref = ref;
  a.on = "2026-03-02";
  a.assign = {{"lead-reviewer", "k-davies"}};
  return a;
}

json stage(Engine& engine, const std::string& ref, const std::string& id) {
  const Result status = engine.status(ref);
  for (const auto& s : status.data["stages"]) {
    if (s["stage"] == id) return s;
  }
  return nullptr;
}

// A store-backed engine on review S-1 (a SAR, maybe paused) whose stage
// "acknowledge" was stored in `state`: a row no command writes.
class StoredSar {
 public:
  StoredSar(bool paused, const std::string& state) : clock_(london("2026-03-02T08:00")) {
    {
      Engine writer(shipped_config_loaded(), clock_);
      store::Store st(db(), "virtual");
      store::Batch b;
      EXPECT_TRUE(writer.start(kManager, sar("S-1"), b).ok);
      if (paused) {
        EXPECT_TRUE(writer.pause(kManager, "S-1", "police inquiry", b).ok);
      }
      for (auto& d : b.deadlines) {
        if (d.stage == "acknowledge") d.state = state;
      }
      st.commit(b);
    }
    store_ = std::make_unique<store::Store>(db(), "virtual");
    engine_ = std::make_unique<Engine>(shipped_config_loaded(), clock_, store_.get());
  }
  Engine& engine() { return *engine_; }

 private:
  std::filesystem::path db() const { return dir_.path() / "d.db"; }

  testing::TempDir dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
};

// A stage that opens while its review is paused is pending, not suspended:
// resuming leaves it as it is and resumes the others.
TEST(EngineRefusals, AStageOpenedDuringAPauseIsPendingAndResumeSucceeds) {
  VirtualClock clock(london("2026-03-02T08:00"));
  Engine engine(shipped_config_loaded(), clock);
  store::Batch b;
  ASSERT_TRUE(engine.start(kManager, sar("S-1"), b).ok);
  clock.set(london("2026-03-04T10:00"));
  ASSERT_TRUE(engine.pause(kManager, "S-1", "police inquiry", b).ok);
  ASSERT_TRUE(engine.complete(kManager, "S-1", "decide", "commission", "", b).ok);
  EXPECT_EQ(stage(engine, "S-1", "complete")["state"], "pending");
  EXPECT_EQ(stage(engine, "S-1", "acknowledge")["state"], "suspended");
  clock.set(london("2026-03-10T10:00"));
  store::Batch r;
  Result resumed = engine.resume(kManager, "S-1", r);
  ASSERT_TRUE(resumed.ok) << resumed.error;
  EXPECT_EQ(stage(engine, "S-1", "acknowledge")["state"], "pending");
  EXPECT_EQ(stage(engine, "S-1", "complete")["state"], "pending");
  EXPECT_TRUE(stage(engine, "S-1", "complete").contains("next_notice"));
}

// An open review whose stored deadline says "suspended" (a row edited by
// hand) cannot be paused: the deadline refuses the suspension, and the
// command says so instead of pausing the rest.
TEST(EngineRefusals, PauseFailsWhenADeadlineRefusesTheSuspension) {
  StoredSar stored(false, "suspended");
  Engine& engine = stored.engine();
  const json before = engine.status("S-1").data;
  store::Batch b;
  Result paused = engine.pause(kManager, "S-1", "police inquiry", b);
  EXPECT_FALSE(paused.ok);
  EXPECT_EQ(paused.error,
            "stage 'acknowledge' of S-1: the deadline is already suspended; it cannot be suspended again");
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(engine.status("S-1").data, before);
  // Cancelling waives what is open, the suspended deadline included.
  Result cancelled = engine.cancel(kManager, "S-1", "opened in error", b);
  ASSERT_TRUE(cancelled.ok) << cancelled.error;
  EXPECT_EQ(stage(engine, "S-1", "acknowledge")["state"], "waived");
}

// Resuming a paused review one of whose open deadlines is overdue (a row
// edited by hand) fails the same way.
TEST(EngineRefusals, ResumeFailsWhenADeadlineRefusesIt) {
  StoredSar stored(true, "overdue");
  store::Batch b;
  Result resumed = stored.engine().resume(kManager, "S-1", b);
  EXPECT_FALSE(resumed.ok);
  EXPECT_EQ(resumed.error, "stage 'acknowledge' of S-1: the deadline is not suspended; it cannot be resumed");
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(stored.engine().status("S-1").data["state"], "paused");
}

}  // namespace
}  // namespace docket::daemon
