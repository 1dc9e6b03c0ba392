// cep/match.hpp — what a pattern reports: a match, or a timed-out partial
// match.
//
// A Match maps stage names to the events taken by each stage: stages in
// pattern order (stages that took no event are absent), events in arrival
// order. Each event carries its timestamp and sequence number (the caller's
// position of the event in its input).
//
// Example:
//   void OnMatch(cep::Match<Txn> m) {
//     for (const auto& stage : m.stages)
//       for (const auto& e : stage.events) Print(stage.stage, e.seq, e.event);
//     if (const auto* cashout = m.Find("cashout")) Alert(cashout->events[0]);
//   }
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cep/time.hpp"

namespace cep {

// One event of a match.
template <typename Event>
struct MatchedEvent {
  Event event;
  Timestamp timestamp;
  uint64_t seq = 0;
};

// The events one stage took.
template <typename Event>
struct StageMatch {
  std::string stage;
  std::vector<MatchedEvent<Event>> events;
};

template <typename Event>
struct Match {
  std::vector<StageMatch<Event>> stages;

  // The events of `stage`, or nullptr when the stage took none.
  const StageMatch<Event>* Find(std::string_view stage) const {
    for (const StageMatch<Event>& s : stages) {
      if (s.stage == stage) return &s;
    }
    return nullptr;
  }

  // Number of events over all stages.
  size_t size() const {
    size_t n = 0;
    for (const StageMatch<Event>& s : stages) n += s.events.size();
    return n;
  }
};

// Receives what an Evaluator (evaluator.hpp) produces for one key.
template <typename Event>
class MatchSink {
 public:
  virtual ~MatchSink() = default;
  // A complete match, in FlinkCEP's release order.
  virtual void OnMatch(Match<Event> match) = 0;
  // A partial match pruned by a window; `timeout_at` is when its window
  // closed (first event + window, or previous event + stage window).
  virtual void OnTimeout(Match<Event> partial, Timestamp timeout_at) {
    (void)partial;
    (void)timeout_at;
  }
};

}  // namespace cep
