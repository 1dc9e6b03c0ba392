// testing/nfa_harness.hpp — drives one key's NFA in tests, as FlinkCEP's
// NFATestHarness does: AdvanceTime(ts) then Process(event) per event.
// Matches come back as strings, "stage=[label label] stage=[label]", stages in
// pattern order and events in match order, so tests assert exact outcomes:
//
//   Harness<Ev> h(pattern);
//   EXPECT_THAT(h.FeedAll({E("a1", "a", 1.0, 1), E("b1", "b", 2.0, 2)}),
//               ElementsAre("start=[a1] end=[b1]"));
//
// When the pattern can also be evaluated by the SharedRunsEvaluator
// (CheckSharedRuns) and the options are the defaults, the Harness runs it
// alongside on every step, and expects the same matches, timeouts and
// statuses: every ported FlinkCEP test doubles as a differential test.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "cep/compiler.hpp"
#include "cep/evaluator.hpp"
#include "cep/key_state.hpp"
#include "cep/match.hpp"
#include "cep/pattern.hpp"
#include "cep/shared_runs_evaluator.hpp"

namespace cep::testing {

// The event type of the ported FlinkCEP tests (their Event(id, name, price),
// plus SubEvent's volume). `label` names the event in match strings.
struct Ev {
  std::string label;
  std::string name;
  double price = 0;
  int64_t ts = 0;
  double volume = 0;
  int id = 0;
};

// Ev{label, name, price, ts}.
inline Ev E(std::string label, std::string name, double price, int64_t ts) {
  return Ev{std::move(label), std::move(name), price, ts, 0, 0};
}

inline const std::string& Label(const Ev& e) { return e.label; }

// "stage=[l1 l2] stage=[l3]".
template <typename Event>
std::string FormatMatch(const Match<Event>& match) {
  std::string out;
  for (const StageMatch<Event>& stage : match.stages) {
    if (!out.empty()) out += ' ';
    absl::StrAppend(&out, stage.stage, "=[");
    for (size_t i = 0; i < stage.events.size(); ++i) {
      if (i > 0) out += ' ';
      out += Label(stage.events[i].event);
    }
    out += ']';
  }
  return out;
}

// One key's NFA and state, with every output recorded.
template <typename Event>
class Harness : public MatchSink<Event> {
 public:
  explicit Harness(const Pattern<Event>& pattern,
                   EvaluatorOptions options = {}) {
    auto nfa = CompilePattern(pattern);
    compile_status_ = nfa.status();
    EXPECT_TRUE(compile_status_.ok()) << compile_status_;
    if (nfa.ok()) {
      nfa_ = std::make_unique<Nfa<Event>>(*std::move(nfa));
      evaluator_ = std::make_unique<Evaluator<Event>>(*nfa_, options);
      const EvaluatorOptions defaults;
      if (CheckSharedRuns(*nfa_).ok() &&
          options.max_partial_matches == defaults.max_partial_matches &&
          options.overflow_policy == defaults.overflow_policy &&
          options.report_timeouts == defaults.report_timeouts &&
          options.start_new_matches == defaults.start_new_matches) {
        shared_ = std::make_unique<SharedRunsEvaluator<Event>>(*nfa_);
      }
    }
  }

  // Whether the SharedRunsEvaluator runs alongside (see the banner).
  bool shadowed() const { return shared_ != nullptr; }

  const absl::Status& compile_status() const { return compile_status_; }

  // Advances time to `ts`, then processes `event`. Returns the matches this
  // step released (timeouts go to timeouts()).
  std::vector<std::string> Feed(const Event& event, int64_t ts) {
    step_.clear();
    if (evaluator_ == nullptr) return step_;
    last_status_ =
        evaluator_->Process(state_, event, FromMillis(ts), seq_, *this);
    if (shared_ != nullptr) {
      CheckShared(shared_->Process(shared_state_, event, FromMillis(ts), seq_,
                                   shared_out_));
    }
    ++seq_;
    return step_;
  }

  // Advances time to `ts` with no event (a watermark). Returns the matches
  // released (notFollowedBy at the end).
  std::vector<std::string> Advance(int64_t ts) {
    step_.clear();
    if (evaluator_ == nullptr) return step_;
    last_status_ = evaluator_->AdvanceTime(state_, FromMillis(ts), *this);
    if (shared_ != nullptr) {
      CheckShared(
          shared_->AdvanceTime(shared_state_, FromMillis(ts), shared_out_));
    }
    return step_;
  }

  // Feeds every event at its own timestamp (`ts` member). Returns all
  // matches released, in release order.
  std::vector<std::string> FeedAll(const std::vector<Event>& events) {
    std::vector<std::string> all;
    for (const Event& e : events) {
      for (std::string& m : Feed(e, e.ts)) all.push_back(std::move(m));
    }
    return all;
  }

  // Every match released so far, in release order.
  const std::vector<std::string>& matches() const { return matches_; }
  // Every timed-out partial match so far: "stage=[...] @TS".
  const std::vector<std::string>& timeouts() const { return timeouts_; }
  // Status of the last Feed/Advance.
  const absl::Status& last_status() const { return last_status_; }
  // Partial matches alive, not counting the start computation.
  size_t partial_matches() const { return state_.PartialMatchCount(); }
  // Events held by the shared buffer.
  size_t buffered_events() const { return state_.buffer().event_count(); }
  const KeyState<Event>& state() const { return state_; }
  const Evaluator<Event>& evaluator() const { return *evaluator_; }

  void OnMatch(Match<Event> match) override {
    std::string s = FormatMatch(match);
    step_.push_back(s);
    matches_.push_back(std::move(s));
  }
  void OnTimeout(Match<Event> partial, Timestamp timeout_at) override {
    timeouts_.push_back(
        absl::StrCat(FormatMatch(partial), " @", ToMillis(timeout_at)));
  }

 private:
  // Records the SharedRunsEvaluator's outputs.
  struct SharedOut : MatchSink<Event> {
    void OnMatch(Match<Event> match) override {
      matches.push_back(FormatMatch(match));
    }
    void OnTimeout(Match<Event> partial, Timestamp timeout_at) override {
      timeouts.push_back(
          absl::StrCat(FormatMatch(partial), " @", ToMillis(timeout_at)));
    }
    std::vector<std::string> matches;
    std::vector<std::string> timeouts;
  };

  void CheckShared(const absl::Status& status) {
    EXPECT_EQ(status, last_status_) << "shared-runs evaluator, step " << seq_;
    EXPECT_EQ(shared_out_.matches, matches_)
        << "shared-runs evaluator, step " << seq_;
    EXPECT_EQ(shared_out_.timeouts, timeouts_)
        << "shared-runs evaluator, step " << seq_;
  }

  absl::Status compile_status_;
  absl::Status last_status_;
  std::unique_ptr<Nfa<Event>> nfa_;
  std::unique_ptr<Evaluator<Event>> evaluator_;
  KeyState<Event> state_;
  std::unique_ptr<SharedRunsEvaluator<Event>> shared_;
  SharedRunsState<Event> shared_state_;
  SharedOut shared_out_;
  uint64_t seq_ = 0;
  std::vector<std::string> step_;
  std::vector<std::string> matches_;
  std::vector<std::string> timeouts_;
};

// Compiles `pattern`, feeds `events` at their timestamps, returns all matches
// in release order.
template <typename Event>
std::vector<std::string> RunPattern(const Pattern<Event>& pattern,
                                    const std::vector<Event>& events) {
  Harness<Event> h(pattern);
  return h.FeedAll(events);
}

// Name-equality condition, the most common one in FlinkCEP's tests.
inline auto NameIs(std::string name) {
  return [name = std::move(name)](const Ev& e) { return e.name == name; };
}

}  // namespace cep::testing
