#pragma once
// What docket's Boost.MSM lifecycles share (internal to their .cc files;
// include after msm_config.h).
//
// Each lifecycle is applied as a transition function: a machine is built on
// the stack, put into the state the object is in through an initial
// pseudo-state (Restoring, with one guarded row per real state on a Restore
// event), sent one event, and read back. An event that no row of the current
// state accepts is recorded by no_transition, so it becomes an error, never a
// silent no-op.

#include <string_view>

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace docket::workflows::msm_support {

namespace msmf = boost::msm::front;

template <class StateEnum>
struct Restore {
  static constexpr std::string_view name = "restore";
  StateEnum to;
};

// A machine state standing for one value of the lifecycle's enum; entering it
// records which.
template <auto S>
struct Is : msmf::state<> {
  static constexpr auto value = S;
  template <class Event, class Fsm>
  void on_entry(const Event&, Fsm& fsm) const {
    fsm.state_ = S;
  }
};

// Guard of the restoring rows: only the row to the state asked for fires.
struct IsRestoredState {
  template <class Event, class Fsm, class Source, class Target>
  bool operator()(const Event& e, Fsm&, Source&, Target&) const {
    return e.to == Target::value;
  }
};

// Base of a lifecycle's definition: the restoring pseudo-state, no queue (so
// nothing is allocated), no exceptions, and the refusal record.
template <class Derived, class StateEnum>
struct LifecycleDef : msmf::state_machine_def<Derived> {
  struct Restoring : msmf::state<> {};
  using initial_state = Restoring;
  using no_message_queue = int;
  using no_exception_thrown = int;

  // Boost.MSM does not call this when a row exists but its guard rejects the
  // event; only the restoring rows have guards (see restore()).
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int) {
    refused_event_ = Event::name;
  }

  StateEnum state_{};               // the state last entered
  std::string_view refused_event_;  // empty unless an event was refused
};

// Starts `machine` and restores it to `from`; false when `from` is no state of
// the machine (a value outside the enum, which every guard rejects).
template <class Machine, class StateEnum>
bool restore(Machine& machine, StateEnum from) {
  machine.start();
  return machine.process_event(Restore<StateEnum>{from}) == boost::msm::back::HANDLED_TRUE;
}

}  // namespace docket::workflows::msm_support
