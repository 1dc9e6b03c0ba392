// Tests of EncodeKeyState / DecodeKeyState: the exact format of a small
// state, error messages, and the strong property: a run that encodes and
// decodes every key's state at every step gives the same matches and
// timeouts, and the same bytes, as a run that never serializes.
#include "cep/key_state_codec.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "cep/codec.hpp"
#include "cep/compiler.hpp"
#include "cep/evaluator.hpp"
#include "cep/matcher.hpp"
#include "cep/pattern.hpp"
#include "cep/shared_runs_evaluator.hpp"
#include "cep/state.hpp"

#include "testing/nfa_harness.hpp"
#include "testing/status_matchers.hpp"

namespace cep {
namespace {

using ::cep::testing::E;
using ::cep::testing::Ev;
using ::cep::testing::IsOk;
using ::cep::testing::NameIs;
using ::cep::testing::StatusIs;
using internal::DeweyNumber;
using P = Pattern<Ev>;
using std::chrono::milliseconds;

constexpr auto kDataLoss = absl::StatusCode::kDataLoss;

// Every field of Ev, in order.
class EvCodec final : public Codec<Ev> {
 public:
  void Encode(const Ev& e, std::string& out) const override {
    strings_.Encode(e.label, out);
    strings_.Encode(e.name, out);
    internal::PutDouble(out, e.price);
    internal::PutSignedVarint(out, e.ts);
    internal::PutDouble(out, e.volume);
    internal::PutSignedVarint(out, e.id);
  }
  absl::Status Decode(std::string_view& in, Ev& e) const override {
    int64_t id = 0;
    if (absl::Status s = strings_.Decode(in, e.label); !s.ok()) return s;
    if (absl::Status s = strings_.Decode(in, e.name); !s.ok()) return s;
    if (!internal::GetDouble(in, e.price) ||
        !internal::GetSignedVarint(in, e.ts) ||
        !internal::GetDouble(in, e.volume) ||
        !internal::GetSignedVarint(in, id)) {
      return absl::DataLossError("truncated Ev");
    }
    e.id = static_cast<int>(id);
    return absl::OkStatus();
  }

 private:
  StringCodec strings_;
};

std::string Encode(const KeyState<Ev>& state) {
  std::string bytes;
  EncodeKeyState(state, EvCodec(), bytes);
  return bytes;
}

DeweyNumber D(std::initializer_list<uint32_t> digits) {
  DeweyNumber d;
  for (uint32_t x : digits) d.Append(x);
  return d;
}

// One partial match a1 -> b1 (version 1.0), as the Evaluator builds it,
// plus the start computation.
KeyState<Ev> SmallState() {
  KeyState<Ev> state;
  SharedBuffer<Ev>& buffer = state.buffer();
  const uint32_t a = buffer.AddEvent(E("a1", "a", 1, 5), 5, 0);
  const uint32_t na = buffer.Put(0, a, kNoNode, D({1}));
  buffer.Lock(na, D({1, 0}));
  buffer.ReleaseEvent(a);
  const uint32_t b = buffer.AddEvent(E("b1", "b", 2, 7), 7, 1);
  const uint32_t nb = buffer.Put(1, b, na, D({1, 0}));
  buffer.Lock(nb, D({1, 0, 0}));
  buffer.Release(na, D({1, 0}));
  buffer.ReleaseEvent(b);
  Computation comp;
  comp.state = 2;
  comp.node = nb;
  comp.version = D({1, 0, 0});
  comp.has_start = true;
  comp.start_ts = 5;
  comp.start_seq = 0;
  comp.previous_ts = 7;
  comp.aggregates.resize(1);
  comp.aggregates[0].Add(2.0);
  state.partial().push_back(comp);
  Computation start;
  start.version = D({2});
  start.aggregates.resize(1);
  state.partial().push_back(start);
  return state;
}

std::string Hex(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    absl::StrAppend(&out, out.empty() ? "" : " ",
                    absl::Hex(static_cast<uint8_t>(c), absl::kZeroPad2));
  }
  return out;
}

TEST(KeyStateCodecTest, FreshStateIsSixBytes) {
  KeyState<Ev> state;
  // Version, per-run form, no events, no nodes, no partial, no completed
  // computations.
  EXPECT_EQ(Hex(Encode(state)), "02 00 00 00 00 00");
  KeyState<Ev> back = SmallState();
  ASSERT_THAT(DecodeKeyState(Encode(state), EvCodec(), back), IsOk());
  EXPECT_TRUE(back.IsIdle());
  EXPECT_TRUE(back.partial().empty());
}

TEST(KeyStateCodecTest, SmallStateHasTheDocumentedFormat) {
  std::string ev_a, ev_b;
  EvCodec().Encode(E("a1", "a", 1, 5), ev_a);
  EvCodec().Encode(E("b1", "b", 2, 7), ev_b);
  const std::string expected = absl::StrCat(
      "02 ",                                      // format version
      "00 ",                                      // per-run form
      "02 ", "0a 00 01 ", Hex(ev_a), " ",         // 2 events: ts +5, seq +0
      "04 02 01 ", Hex(ev_b), " ",                // ts +2, seq +1, 1 ref
      "02 ",                                      // 2 nodes
      "00 00 01 01 00 01 01 01 ",                 // a1: stage 0, 1 ref, 1 edge
                                                  // from nothing, v1, 1 ref
      "01 01 01 01 01 02 01 00 01 ",              // b1: stage 1, edge from
                                                  // node 0, v1.0, 1 ref
      "02 ",                                      // 2 partial computations
      "02 02 03 01 00 00 03 0a 00 04 01 01 02 ",  // state 2, node 1, v1.0.0,
                                                  // start (5, 0), prev +2,
                                                  // 1 aggregate: count 1
      "00 00 00 00 00 00 00 40 ",                 //   sum 2
      "00 00 00 00 00 00 00 40 ",                 //   min
      "00 00 00 00 00 00 00 40 ",                 //   max
      "00 00 00 00 00 00 00 40 ",                 //   first
      "00 00 00 00 00 00 00 40 ",                 //   last
      "00 00 01 02 00 00 01 00 ",                 // start: state 0, no node,
                                                  // v2, no start, empty aggr.
      "00");                                      // no completed
  EXPECT_EQ(Hex(Encode(SmallState())), expected);
}

TEST(KeyStateCodecTest, RoundTripRebuildsTheSameState) {
  const KeyState<Ev> state = SmallState();
  const std::string bytes = Encode(state);
  KeyState<Ev> back;
  ASSERT_THAT(DecodeKeyState(bytes, EvCodec(), back), IsOk());
  EXPECT_EQ(Encode(back), bytes);
  ASSERT_EQ(back.partial().size(), 2u);
  EXPECT_EQ(back.partial()[0].version, D({1, 0, 0}));
  EXPECT_EQ(back.partial()[0].aggregates, state.partial()[0].aggregates);
  EXPECT_EQ(back.buffer().event_count(), 2u);
  EXPECT_EQ(back.buffer().node_count(), 2u);
  std::vector<SharedBuffer<Ev>::PathStep> path;
  ASSERT_TRUE(back.buffer().Extract(back.partial()[0].node,
                                    back.partial()[0].version, path));
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(back.buffer().event(path[0].event).event->label, "a1");
  EXPECT_EQ(back.buffer().event(path[1].event).event->label, "b1");
  // Releasing the decoded branch frees everything, as in the original.
  back.buffer().Release(back.partial()[0].node, back.partial()[0].version);
  EXPECT_TRUE(back.buffer().empty());
}

TEST(KeyStateCodecTest, UnknownFormatVersionIsDataLoss) {
  KeyState<Ev> state = SmallState();
  EXPECT_THAT(
      DecodeKeyState(std::string("\x07\x00\x00\x00\x00", 5), EvCodec(), state),
      StatusIs(kDataLoss,
               "key state: format version 7, this build reads 1 to 2"));
  EXPECT_TRUE(state.partial().empty());  // replaced by a fresh state
}

TEST(KeyStateCodecTest, VersionOneStatesStillDecode) {
  // Version 1 had no form byte: the per-run body followed the version.
  std::string bytes = Encode(SmallState());
  ASSERT_EQ(bytes.substr(0, 2), std::string("\x02\x00", 2));
  const std::string version_one = "\x01" + bytes.substr(2);
  KeyState<Ev> back;
  ASSERT_THAT(DecodeKeyState(version_one, EvCodec(), back), IsOk());
  EXPECT_EQ(Encode(back), bytes);
}

TEST(KeyStateCodecTest, UnknownFormIsDataLoss) {
  KeyState<Ev> state;
  EXPECT_THAT(DecodeKeyState(std::string("\x02\x05\x00", 3), EvCodec(), state),
              StatusIs(kDataLoss, "key state: unknown form 5"));
  EXPECT_THAT(DecodeKeyState(std::string("\x02", 1), EvCodec(), state),
              StatusIs(kDataLoss, "key state: truncated in the form"));
}

TEST(KeyStateCodecTest, TruncationNamesThePart) {
  const std::string bytes = Encode(SmallState());
  KeyState<Ev> back;
  // The node count, node 0 (8 bytes), node 1: 4 bytes, then its edge.
  const size_t node_start =
      bytes.find(std::string("\x02\x00\x00\x01\x01", 5), 2 + 1 + 3 + 20);
  ASSERT_NE(node_start, std::string::npos);
  EXPECT_THAT(DecodeKeyState(std::string_view(bytes).substr(0, node_start + 15),
                             EvCodec(), back),
              StatusIs(kDataLoss,
                       "key state: truncated in edge 0 of 1 of node 1 of 2"));
  EXPECT_THAT(DecodeKeyState(std::string_view(bytes).substr(0, node_start + 11),
                             EvCodec(), back),
              StatusIs(kDataLoss, "key state: truncated in node 1 of 2"));
  EXPECT_THAT(
      DecodeKeyState(bytes.substr(0, bytes.size() - 1), EvCodec(), back),
      StatusIs(kDataLoss, "key state: truncated in the completed count"));
  EXPECT_THAT(DecodeKeyState(bytes + "x", EvCodec(), back),
              StatusIs(kDataLoss, "key state: 1 bytes after the end"));
}

TEST(KeyStateCodecTest, EveryTruncationIsDataLoss) {
  const std::string bytes = Encode(SmallState());
  for (size_t size = 0; size < bytes.size(); ++size) {
    KeyState<Ev> back;
    EXPECT_EQ(
        DecodeKeyState(std::string_view(bytes).substr(0, size), EvCodec(), back)
            .code(),
        kDataLoss)
        << "prefix of " << size << " bytes";
  }
}

TEST(KeyStateCodecTest, WrongReferenceCountIsDataLoss) {
  KeyState<Ev> state = SmallState();
  state.partial().push_back(state.partial()[0]);  // unlocked second branch
  KeyState<Ev> back;
  EXPECT_THAT(
      DecodeKeyState(Encode(state), EvCodec(), back),
      StatusIs(kDataLoss,
               "key state: node 1 of 2 has 1 references, 2 lead to it"));
}

TEST(KeyStateCodecTest, ReferenceOutOfRangeIsDataLoss) {
  std::string bytes = Encode(SmallState());
  // The partial computation's node (1, written as 2) becomes node 5.
  const size_t at = bytes.find(std::string("\x02\x02\x02\x03\x01", 5));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 2] = '\x06';
  KeyState<Ev> back;
  EXPECT_THAT(DecodeKeyState(bytes, EvCodec(), back),
              StatusIs(kDataLoss,
                       "key state: in partial computation 0 of 2: refers to "
                       "node 5 of 2"));
}

TEST(KeyStateCodecTest, CycleOfEdgesIsDataLoss) {
  std::string bytes = Encode(SmallState());
  // Node 0's edge "from nothing" (00) now comes from node 1 (02).
  const size_t at = bytes.find(std::string("\x00\x00\x01\x01\x00\x01\x01", 7));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 4] = '\x02';
  KeyState<Ev> back;
  // Node 1 then has one more reference than it holds.
  const absl::Status status = DecodeKeyState(bytes, EvCodec(), back);
  EXPECT_THAT(status, StatusIs(kDataLoss,
                               "key state: node 0 of 2 is on a cycle of "
                               "edges"));
}

TEST(KeyStateCodecTest, ArbitraryBytesNeverCrash) {
  const std::string bytes = Encode(SmallState());
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    std::string corrupt = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      corrupt[rng() % corrupt.size()] = static_cast<char>(rng());
    }
    if (round % 4 == 0) corrupt.resize(rng() % (corrupt.size() + 1));
    KeyState<Ev> back;
    const absl::Status status = DecodeKeyState(corrupt, EvCodec(), back);
    if (!status.ok()) {
      ASSERT_EQ(status.code(), kDataLoss) << status;
      ASSERT_TRUE(back.partial().empty());
    }
  }
}

// ---- the strong test: serialize at every step ------------------------------

struct Case {
  const char* name;
  P pattern;
  EvaluatorOptions options;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  {
    // FollowedByAny with a Kleene loop bounded by an aggregate, windowed.
    P p = P::Begin("a").Where(NameIs("a")).FollowedByAny("b");
    AggregateId sum = p.Aggregate("b", [](const Ev& e) { return e.price; });
    p.Where([sum](const Ev& e, const Context<Ev>& ctx) {
       return e.name == "b" && ctx.Aggregate(sum).sum + e.price < 12;
     })
        .OneOrMore()
        .AllowCombinations()
        .FollowedBy("c")
        .Where(NameIs("c"))
        .Within(milliseconds(40));
    EvaluatorOptions options;
    options.max_partial_matches = 48;
    cases.push_back({"followed_by_any_loop", p, options});
  }
  {
    // Windows on the whole match and between events: timeouts.
    P p = P::Begin("a")
              .Where(NameIs("a"))
              .FollowedBy("b")
              .Where(NameIs("b"))
              .Times(2)
              .FollowedBy("c")
              .Where(NameIs("c"))
              .Within(milliseconds(8), WithinType::kPreviousAndCurrent)
              .Within(milliseconds(25));
    cases.push_back({"window_timeouts", p, {}});
  }
  {
    // A skip strategy that holds completed matches back behind
    // earlier-started partial matches.
    P p = P::Begin("a", AfterMatchSkip::SkipToFirst("b"))
              .Where(NameIs("a"))
              .OneOrMore()
              .FollowedBy("b")
              .Where([](const Ev& e, const Context<Ev>& ctx) {
                const Ev* first = ctx.FirstEvent("a");
                return e.name == "b" && first != nullptr &&
                       e.price > first->price;
              })
              .FollowedByAny("c")
              .Where([](const Ev& e) { return e.name == "c" || e.price > 4; })
              .Within(milliseconds(30));
    cases.push_back({"skip_to_first_held_back", p, {}});
  }
  {
    P p = P::Begin("a", AfterMatchSkip::SkipPastLastEvent())
              .Where(NameIs("a"))
              .FollowedBy("b")
              .Where(NameIs("b"))
              .OneOrMore()
              .Greedy()
              .FollowedBy("c")
              .Where(NameIs("c"));
    cases.push_back({"skip_past_last_event", p, {}});
  }
  {
    // A trailing NotFollowedBy: matches are released when the window ends.
    P p = P::Begin("a")
              .Where(NameIs("a"))
              .FollowedBy("b")
              .Where(NameIs("b"))
              .NotFollowedBy("n")
              .Where(NameIs("n"))
              .Within(milliseconds(12));
    cases.push_back({"trailing_not_followed_by", p, {}});
  }
  return cases;
}

std::vector<Ev> RandomStream(uint32_t seed, int count) {
  std::mt19937 rng(seed);
  const char* names[] = {"a", "b", "c", "n", "x", "a", "b"};
  std::vector<Ev> events;
  int64_t ts = 0;
  for (int i = 0; i < count; ++i) {
    ts += static_cast<int64_t>(rng() % 4);  // equal timestamps happen
    Ev e = E(absl::StrCat("e", i), names[rng() % 7],
             static_cast<double>(rng() % 60) / 10.0, ts);
    e.id = static_cast<int>(rng() % 3);  // the key
    events.push_back(std::move(e));
  }
  return events;
}

// Records output with the event's seq and time.
class Recorder : public MatchSink<Ev> {
 public:
  void OnMatch(Match<Ev> match) override {
    out.push_back(absl::StrCat("match ", Describe(match)));
  }
  void OnTimeout(Match<Ev> partial, Timestamp at) override {
    out.push_back(
        absl::StrCat("timeout ", Describe(partial), " @", ToMillis(at)));
  }
  static std::string Describe(const Match<Ev>& match) {
    std::string s;
    for (const auto& stage : match.stages) {
      absl::StrAppend(&s, stage.stage, "=[");
      for (const auto& e : stage.events) {
        absl::StrAppend(&s, e.event.label, "/", e.seq, "@",
                        ToMillis(e.timestamp), " ");
      }
      s += "] ";
    }
    return s;
  }
  std::vector<std::string> out;
};

class SerializeEveryStepTest : public ::testing::TestWithParam<int> {};

TEST_P(SerializeEveryStepTest, SameOutputAndBytesAsARunThatNeverSerializes) {
  const Case c = Cases()[GetParam()];
  SCOPED_TRACE(c.name);
  auto nfa = CompilePattern(c.pattern);
  ASSERT_THAT(nfa.status(), IsOk());
  for (uint32_t seed : {1u, 2u, 3u}) {
    Evaluator<Ev> reference(*nfa, c.options);
    Evaluator<Ev> serialized(*nfa, c.options);
    KeyState<Ev> ref_state, state;
    Recorder ref_out, out;
    size_t max_nodes = 0, indexed_nodes = 0, completed_held = 0;
    const std::vector<Ev> events = RandomStream(seed, 400);
    // Round-trips `state` through bytes, checking both encodings.
    auto round_trip = [&](size_t step) {
      const std::string bytes = Encode(state);
      ASSERT_EQ(bytes, Encode(ref_state)) << "step " << step;
      KeyState<Ev> fresh;
      ASSERT_THAT(DecodeKeyState(bytes, EvCodec(), fresh), IsOk())
          << "step " << step;
      ASSERT_EQ(Encode(fresh), bytes) << "step " << step;
      state = std::move(fresh);
      max_nodes = std::max(max_nodes, state.buffer().node_count());
      completed_held += state.completed().size();
      for (uint32_t n = 0; n < state.buffer().node_count(); ++n) {
        indexed_nodes += state.buffer().node(n).index != nullptr;
      }
    };
    for (size_t step = 0; step < events.size(); ++step) {
      const Ev& e = events[step];
      ASSERT_NO_FATAL_FAILURE(round_trip(step));
      ASSERT_THAT(
          reference.Process(ref_state, e, FromMillis(e.ts), step, ref_out),
          IsOk());
      ASSERT_THAT(serialized.Process(state, e, FromMillis(e.ts), step, out),
                  IsOk());
      ASSERT_EQ(out.out, ref_out.out) << "step " << step;
      if (step % 25 == 24) {  // a watermark past the event
        ASSERT_NO_FATAL_FAILURE(round_trip(step));
        ASSERT_THAT(
            reference.AdvanceTime(ref_state, FromMillis(e.ts + 3), ref_out),
            IsOk());
        ASSERT_THAT(serialized.AdvanceTime(state, FromMillis(e.ts + 3), out),
                    IsOk());
        ASSERT_EQ(out.out, ref_out.out) << "step " << step;
      }
    }
    ASSERT_NO_FATAL_FAILURE(round_trip(events.size()));
    ASSERT_THAT(reference.AdvanceTime(ref_state, FromMillis(1 << 20), ref_out),
                IsOk());
    ASSERT_THAT(serialized.AdvanceTime(state, FromMillis(1 << 20), out),
                IsOk());
    EXPECT_EQ(out.out, ref_out.out);
    EXPECT_EQ(Encode(state), Encode(ref_state));
    // The run exercised something.
    EXPECT_GT(ref_out.out.size(), 5u) << "seed " << seed;
    EXPECT_GT(max_nodes, 3u);
    if (std::string_view(c.name) == "followed_by_any_loop") {
      EXPECT_GT(indexed_nodes, 0u);  // edge indexes were rebuilt
    }
    if (std::string_view(c.name) == "window_timeouts") {
      EXPECT_GT(std::count_if(out.out.begin(), out.out.end(),
                              [](const std::string& line) {
                                return line.starts_with("timeout");
                              }),
                0);
    }
    if (std::string_view(c.name) == "skip_to_first_held_back") {
      EXPECT_GT(completed_held, 0u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Patterns, SerializeEveryStepTest,
                         ::testing::Range(0, 5),
                         [](const ::testing::TestParamInfo<int>& info) {
                           std::string name = Cases()[info.param].name;
                           std::erase(name, '_');
                           return name;
                         });

// Every truncation of states seen in a run is kDataLoss.
TEST(KeyStateCodecTest, EveryTruncationOfRealStatesIsDataLoss) {
  for (const Case& c : Cases()) {
    auto nfa = CompilePattern(c.pattern);
    ASSERT_THAT(nfa.status(), IsOk());
    Evaluator<Ev> evaluator(*nfa, c.options);
    KeyState<Ev> state;
    Recorder out;
    const std::vector<Ev> events = RandomStream(11, 120);
    for (size_t step = 0; step < events.size(); ++step) {
      const Ev& e = events[step];
      ASSERT_THAT(evaluator.Process(state, e, FromMillis(e.ts), step, out),
                  IsOk());
      if (step % 10 != 9) continue;
      const std::string bytes = Encode(state);
      for (size_t size = 0; size < bytes.size(); ++size) {
        KeyState<Ev> back;
        ASSERT_EQ(DecodeKeyState(std::string_view(bytes).substr(0, size),
                                 EvCodec(), back)
                      .code(),
                  kDataLoss)
            << c.name << " step " << step << " prefix " << size;
      }
    }
  }
}

// A StateBackend that keeps only bytes: Get decodes into a fresh state, Put
// encodes it, as a RocksDB backend does.
class BytesBackend final : public StateBackend<Ev, int> {
 public:
  absl::StatusOr<KeyState<Ev>*> Get(const int& key) override {
    current_ = KeyState<Ev>();
    auto it = stored_.find(key);
    if (it != stored_.end()) {
      if (absl::Status s = DecodeKeyState(it->second, codec_, current_);
          !s.ok()) {
        return s;
      }
    }
    return &current_;
  }
  absl::Status Put(const int& key, KeyState<Ev>& state) override {
    std::string& bytes = stored_[key];
    bytes.clear();
    EncodeKeyState(state, codec_, bytes);
    return absl::OkStatus();
  }
  absl::Status Erase(const int& key) override {
    stored_.erase(key);
    return absl::OkStatus();
  }
  absl::Status Commit() override { return absl::OkStatus(); }
  absl::Status ForEach(
      absl::FunctionRef<absl::Status(const int&, KeyState<Ev>&)> fn) override {
    for (const auto& [key, bytes] : stored_) {
      KeyState<Ev> state;
      if (absl::Status s = DecodeKeyState(bytes, codec_, state); !s.ok()) {
        return s;
      }
      if (absl::Status s = fn(key, state); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  size_t key_count() const override { return stored_.size(); }

 private:
  EvCodec codec_;
  std::map<int, std::string> stored_;
  KeyState<Ev> current_;
};

class KeyedRecorder : public KeyedMatchSink<Ev, int> {
 public:
  void OnMatch(const int& key, Match<Ev> match) override {
    out.push_back(absl::StrCat(key, " match ", Recorder::Describe(match)));
  }
  void OnTimeout(const int& key, Match<Ev> partial, Timestamp at) override {
    out.push_back(absl::StrCat(key, " timeout ", Recorder::Describe(partial),
                               " @", ToMillis(at)));
  }
  std::vector<std::string> out;
};

TEST(KeyStateCodecTest, KeyedMatcherOverABytesBackendMatchesInMemory) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto nfa = CompilePattern(c.pattern);
    ASSERT_THAT(nfa.status(), IsOk());
    InMemoryStateBackend<Ev, int> memory;
    BytesBackend bytes;
    auto key = [](const Ev& e) { return e.id; };
    KeyedMatcher<Ev, int> reference(*nfa, key, memory, c.options);
    KeyedMatcher<Ev, int> serialized(*nfa, key, bytes, c.options);
    KeyedRecorder ref_out, out;
    const std::vector<Ev> events = RandomStream(5, 600);
    for (size_t step = 0; step < events.size(); ++step) {
      const Ev& e = events[step];
      ASSERT_THAT(reference.AdvanceTime(FromMillis(e.ts - 1), ref_out), IsOk());
      ASSERT_THAT(serialized.AdvanceTime(FromMillis(e.ts - 1), out), IsOk());
      ASSERT_THAT(reference.Process(e, FromMillis(e.ts), ref_out), IsOk());
      ASSERT_THAT(serialized.Process(e, FromMillis(e.ts), out), IsOk());
      ASSERT_EQ(out.out, ref_out.out) << "step " << step;
    }
    ASSERT_THAT(reference.AdvanceTime(FromMillis(1 << 20), ref_out), IsOk());
    ASSERT_THAT(serialized.AdvanceTime(FromMillis(1 << 20), out), IsOk());
    EXPECT_EQ(out.out, ref_out.out);
    EXPECT_GT(out.out.size(), 5u);
  }
}

// ---- keys in the shared form
// -------------------------------------------------

// Patterns the SharedRunsEvaluator takes (simple conditions, no aggregates).
std::vector<Case> SharedCases() {
  std::vector<Case> cases;
  cases.push_back({"followed_by_any_combinations",
                   P::Begin("a")
                       .Where(NameIs("a"))
                       .FollowedByAny("b")
                       .Where(NameIs("b"))
                       .OneOrMore()
                       .AllowCombinations()
                       .FollowedBy("c")
                       .Where(NameIs("c"))
                       .Within(milliseconds(16)),
                   {}});
  cases.push_back({"times_with_timeouts",
                   P::Begin("a")
                       .Where(NameIs("a"))
                       .FollowedBy("b")
                       .Where(NameIs("b"))
                       .Times(2)
                       .FollowedBy("c")
                       .Where(NameIs("c"))
                       .Within(milliseconds(25)),
                   {}});
  cases.push_back({"trailing_not_followed_by",
                   P::Begin("a")
                       .Where(NameIs("a"))
                       .FollowedByAny("b")
                       .Where(NameIs("b"))
                       .NotFollowedBy("n")
                       .Where(NameIs("n"))
                       .Within(milliseconds(12)),
                   {}});
  cases.push_back({"no_window",
                   P::Begin("a")
                       .Where(NameIs("a"))
                       .Next("b")
                       .Where(NameIs("b"))
                       .OneOrMore()
                       .FollowedBy("c")
                       .Where(NameIs("c")),
                   {}});
  // Runs from `a` wait for a second one while `b` alone completes a match:
  // matches are held back, and each one released discards runs.
  cases.push_back({"skip_past_last_event",
                   P::Begin("a", AfterMatchSkip::SkipPastLastEvent())
                       .Where(NameIs("a"))
                       .Times(2)
                       .AllowCombinations()
                       .Optional()
                       .FollowedBy("b")
                       .Where(NameIs("b"))
                       .Within(milliseconds(16)),
                   {}});
  return cases;
}

class SharedFormEveryStepTest : public ::testing::TestWithParam<int> {};

TEST_P(SharedFormEveryStepTest, SameOutputAsThePerRunEvaluator) {
  const Case c = SharedCases()[GetParam()];
  SCOPED_TRACE(c.name);
  auto nfa = CompilePattern(c.pattern);
  ASSERT_THAT(nfa.status(), IsOk());
  ASSERT_THAT(CheckSharedRuns(*nfa), IsOk());
  // The per-run evaluator without its partial-match cap, which the shared
  // form does not have.
  EvaluatorOptions uncapped = c.options;
  uncapped.max_partial_matches = 0;
  for (uint32_t seed : {1u, 2u, 3u}) {
    Evaluator<Ev> reference(*nfa, uncapped);
    SharedRunsEvaluator<Ev> shared(*nfa);
    KeyState<Ev> ref_state, state;
    state.UseSharedRuns();
    Recorder ref_out, out;
    size_t max_nodes = 0, max_held = 0;
    const std::vector<Ev> events = RandomStream(seed, 400);
    auto round_trip = [&](size_t step) {
      const std::string bytes = Encode(state);
      ASSERT_EQ(bytes[1], kSharedRunsForm) << "step " << step;
      KeyState<Ev> fresh;
      ASSERT_THAT(DecodeKeyState(bytes, EvCodec(), fresh), IsOk())
          << "step " << step;
      ASSERT_NE(fresh.shared_runs(), nullptr);
      ASSERT_EQ(Encode(fresh), bytes) << "step " << step;
      state = std::move(fresh);
      max_nodes = std::max(max_nodes, state.shared_runs()->node_count());
      max_held = std::max(max_held, state.shared_runs()->held().size());
    };
    for (size_t step = 0; step < events.size(); ++step) {
      const Ev& e = events[step];
      ASSERT_NO_FATAL_FAILURE(round_trip(step));
      ASSERT_THAT(
          reference.Process(ref_state, e, FromMillis(e.ts), step, ref_out),
          IsOk());
      ASSERT_THAT(
          shared.Process(*state.shared_runs(), e, FromMillis(e.ts), step, out),
          IsOk());
      ASSERT_EQ(out.out, ref_out.out) << "step " << step;
      if (step % 25 == 24) {
        ASSERT_NO_FATAL_FAILURE(round_trip(step));
        ASSERT_THAT(
            reference.AdvanceTime(ref_state, FromMillis(e.ts + 3), ref_out),
            IsOk());
        ASSERT_THAT(
            shared.AdvanceTime(*state.shared_runs(), FromMillis(e.ts + 3), out),
            IsOk());
        ASSERT_EQ(out.out, ref_out.out) << "step " << step;
      }
    }
    ASSERT_NO_FATAL_FAILURE(round_trip(events.size()));
    ASSERT_THAT(reference.AdvanceTime(ref_state, FromMillis(1 << 20), ref_out),
                IsOk());
    ASSERT_THAT(
        shared.AdvanceTime(*state.shared_runs(), FromMillis(1 << 20), out),
        IsOk());
    EXPECT_EQ(out.out, ref_out.out);
    EXPECT_GT(ref_out.out.size(), 5u) << "seed " << seed;
    EXPECT_GT(max_nodes, 3u);
    if (std::string_view(c.name) == "skip_past_last_event") {
      EXPECT_GT(max_held, 0u) << "seed " << seed;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Patterns, SharedFormEveryStepTest,
                         ::testing::Range(0, 5),
                         [](const ::testing::TestParamInfo<int>& info) {
                           std::string name = SharedCases()[info.param].name;
                           std::erase(name, '_');
                           return name;
                         });

// Truncated or corrupted shared states are kDataLoss, never a crash.
TEST(KeyStateCodecTest, DamagedSharedStatesAreDataLoss) {
  std::mt19937 rng(3);
  for (const Case& c : SharedCases()) {
    auto nfa = CompilePattern(c.pattern);
    ASSERT_THAT(nfa.status(), IsOk());
    SharedRunsEvaluator<Ev> shared(*nfa);
    KeyState<Ev> state;
    state.UseSharedRuns();
    Recorder out;
    const std::vector<Ev> events = RandomStream(11, 120);
    for (size_t step = 0; step < events.size(); ++step) {
      const Ev& e = events[step];
      ASSERT_THAT(
          shared.Process(*state.shared_runs(), e, FromMillis(e.ts), step, out),
          IsOk());
      if (step % 10 != 9) continue;
      const std::string bytes = Encode(state);
      for (size_t size = 0; size < bytes.size(); ++size) {
        KeyState<Ev> back;
        ASSERT_EQ(DecodeKeyState(std::string_view(bytes).substr(0, size),
                                 EvCodec(), back)
                      .code(),
                  kDataLoss)
            << c.name << " step " << step << " prefix " << size;
      }
      for (int round = 0; round < 300; ++round) {
        std::string corrupt = bytes;
        corrupt[2 + rng() % (corrupt.size() - 2)] = static_cast<char>(rng());
        KeyState<Ev> back;
        const absl::Status status = DecodeKeyState(corrupt, EvCodec(), back);
        if (!status.ok()) {
          ASSERT_EQ(status.code(), kDataLoss) << status;
          continue;
        }
        // What decodes must be safe to advance.
        SharedRunsEvaluator<Ev> probe(*nfa);
        Recorder ignored;
        (void)probe.Process(*back.shared_runs(), e, FromMillis(e.ts + 1),
                            step + 1, ignored);
        (void)probe.AdvanceTime(*back.shared_runs(), FromMillis(1 << 20),
                                ignored);
      }
    }
  }
}

TEST(KeyStateCodecTest, SharedRunsReferencesAreChecked) {
  // One event; a kTake node starting runs; head 1 on it.
  std::string bytes = {'\x02', '\x01',  // version 2, shared form
                       '\x02',          // 2 heads
                       '\x00', '\x00',  //   none
                       '\x01', '\x0a',  //   node 0, last take 5
                       '\x01',          // expired through: -1 (zigzag)
                       '\x00',          // no starts
                       '\x40',          // compact at 64
                       '\x00',          // nothing skipped
                       '\x00',          // no match held back
                       '\x01', '\x0a',
                       '\x00'};  // 1 event: ts 5, seq 0, then the event
  EvCodec().Encode(E("a1", "a", 1, 5), bytes);
  // 1 node: kTake, digit 0, stage 0, event 0, no previous, starts 5..5,
  // the newest with seq 0.
  const std::string node = {'\x01', '\x00', '\x00', '\x00', '\x00',
                            '\x00', '\x0a', '\x0a', '\x00'};
  KeyState<Ev> back;
  ASSERT_THAT(DecodeKeyState(bytes + node, EvCodec(), back), IsOk());
  ASSERT_NE(back.shared_runs(), nullptr);
  EXPECT_EQ(back.shared_runs()->heads()[1], 0u);
  EXPECT_EQ(back.shared_runs()->LastActivity(), FromMillis(5));
  std::string bad_event = node;
  bad_event[4] = '\x03';  // event 3 of 1
  EXPECT_THAT(
      DecodeKeyState(bytes + bad_event, EvCodec(), back),
      StatusIs(kDataLoss, "key state: node 0 of 1 refers to event 3 of 1"));
  std::string bad_previous = node;
  bad_previous[5] = '\x01';  // one node back from node 0
  EXPECT_THAT(
      DecodeKeyState(bytes + bad_previous, EvCodec(), back),
      StatusIs(kDataLoss, "key state: node 0 of 1 refers to 1 nodes back"));
  EXPECT_THAT(DecodeKeyState(bytes + std::string(1, '\0'), EvCodec(), back),
              StatusIs(kDataLoss, "key state: head 1 refers to node 0 of 0"));
}

// A KeyedMatcher gives new keys the shared form by default; over a backend
// that keeps only bytes its output equals the per-run matcher's in memory.
TEST(KeyStateCodecTest, SharedKeyedMatcherOverBytesMatchesPerRunInMemory) {
  for (const Case& c : SharedCases()) {
    SCOPED_TRACE(c.name);
    auto nfa = CompilePattern(c.pattern);
    ASSERT_THAT(nfa.status(), IsOk());
    InMemoryStateBackend<Ev, int> memory;
    BytesBackend bytes;
    auto key = [](const Ev& e) { return e.id; };
    EvaluatorOptions per_run = c.options;
    per_run.strategy = EvaluationStrategy::kPerRun;
    per_run.max_partial_matches = 0;  // the shared form has no cap
    KeyedMatcher<Ev, int> reference(*nfa, key, memory, per_run);
    EvaluatorOptions sharing = c.options;
    sharing.strategy = EvaluationStrategy::kShared;  // skip strategies too
    KeyedMatcher<Ev, int> shared(*nfa, key, bytes, sharing);
    EXPECT_FALSE(reference.shares_partial_matches());
    EXPECT_TRUE(shared.shares_partial_matches());
    KeyedRecorder ref_out, out;
    const std::vector<Ev> events = RandomStream(5, 600);
    for (size_t step = 0; step < events.size(); ++step) {
      const Ev& e = events[step];
      ASSERT_THAT(reference.AdvanceTime(FromMillis(e.ts - 1), ref_out), IsOk());
      ASSERT_THAT(shared.AdvanceTime(FromMillis(e.ts - 1), out), IsOk());
      ASSERT_THAT(reference.Process(e, FromMillis(e.ts), ref_out), IsOk());
      ASSERT_THAT(shared.Process(e, FromMillis(e.ts), out), IsOk());
      ASSERT_EQ(out.out, ref_out.out) << "step " << step;
    }
    ASSERT_THAT(reference.AdvanceTime(FromMillis(1 << 20), ref_out), IsOk());
    ASSERT_THAT(shared.AdvanceTime(FromMillis(1 << 20), out), IsOk());
    EXPECT_EQ(out.out, ref_out.out);
    EXPECT_GT(out.out.size(), 5u);
    EXPECT_EQ(shared.metrics().matches, reference.metrics().matches);
    EXPECT_EQ(shared.metrics().timeouts, reference.metrics().timeouts);
  }
}

// States stored in one form go on in it when the choice changes: half a
// stream per run, the rest with shared runs for new keys only.
TEST(KeyStateCodecTest, StoredPerRunStatesGoOnWhenNewKeysShare) {
  for (const Case& c : SharedCases()) {
    SCOPED_TRACE(c.name);
    auto nfa = CompilePattern(c.pattern);
    ASSERT_THAT(nfa.status(), IsOk());
    InMemoryStateBackend<Ev, int> memory;
    BytesBackend bytes;
    auto key = [](const Ev& e) { return e.id; };
    EvaluatorOptions per_run = c.options;
    per_run.strategy = EvaluationStrategy::kPerRun;
    per_run.max_partial_matches = 0;
    KeyedMatcher<Ev, int> reference(*nfa, key, memory, per_run);
    auto first =
        std::make_unique<KeyedMatcher<Ev, int>>(*nfa, key, bytes, per_run);
    KeyedRecorder ref_out, out;
    const std::vector<Ev> events = RandomStream(9, 400);
    for (size_t step = 0; step < events.size(); ++step) {
      if (step == events.size() / 2) {
        // A restart with the default choice: timers rebuilt from the states.
        EvaluatorOptions sharing = c.options;
        sharing.strategy = EvaluationStrategy::kShared;
        first =
            std::make_unique<KeyedMatcher<Ev, int>>(*nfa, key, bytes, sharing);
        ASSERT_THAT(first->RestoreTimers(), IsOk());
      }
      const Ev& e = events[step];
      ASSERT_THAT(reference.AdvanceTime(FromMillis(e.ts - 1), ref_out), IsOk());
      ASSERT_THAT(first->AdvanceTime(FromMillis(e.ts - 1), out), IsOk());
      ASSERT_THAT(reference.Process(e, FromMillis(e.ts), step, ref_out),
                  IsOk());
      ASSERT_THAT(first->Process(e, FromMillis(e.ts), step, out), IsOk());
      ASSERT_EQ(out.out, ref_out.out) << "step " << step;
    }
    ASSERT_THAT(reference.AdvanceTime(FromMillis(1 << 20), ref_out), IsOk());
    ASSERT_THAT(first->AdvanceTime(FromMillis(1 << 20), out), IsOk());
    EXPECT_EQ(out.out, ref_out.out);
  }
}

}  // namespace
}  // namespace cep
