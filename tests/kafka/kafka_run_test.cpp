// `cep run` against librdkafka's mock cluster: a kafka_mock_host child
// process hosts it (a topic of 8 partitions, the events produced keyed by
// card), and `cep` child processes read from it and write to it, as users
// run them. The reference is always `cep run` over the same events from a
// file. Every wait is bounded; each test takes a few seconds (the mock
// cluster waits 3 s for more members before it assigns the partitions of
// a new group).
//
// The events: `cep gen card-testing` with planted frauds, their timestamps
// rewritten to be 250 ms apart, so that the event-time merge of the
// partitions (kafka_source.hpp) gives exactly the file's order, and with it
// the same matches. An event read from Kafka has the seq KafkaSeq gives
// (partition * 2^40 + offset), the same in every process of a group, so
// match seqs and ids differ from the file's but not between processes.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kafka/kafka_processes.hpp"

namespace {

namespace fs = std::filesystem;
using ::cep::kafka_testing::KafkaProcessTest;
using ::cep::kafka_testing::kEvents;
using ::cep::kafka_testing::Lines;
using ::cep::kafka_testing::MessageValue;
using ::cep::kafka_testing::ReadFile;
using ::cep::kafka_testing::Sorted;
using ::cep::kafka_testing::Wait;
using ::cep::kafka_testing::WithoutSeqs;
using ::cep::kafka_testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr int kPlantedFrauds = 35;  // what `cep gen` plants with this seed

class KafkaRunTest : public KafkaProcessTest {
 protected:
  void SetUp() override {
    KafkaProcessTest::SetUp();
    fs::copy_file(fs::path(CEP_SOURCE_DIR) / "patterns" / "card_testing.cep",
                  dir_ / "p.cep");
  }

  pid_t Cep(const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), CEP_BINARY);
    return Start(name, std::move(args));
  }

  // events.jsonl (see the file comment) and expected: the sorted match
  // lines (with ids) of `cep run` over it from the file.
  void MakeEvents() {
    ASSERT_NO_FATAL_FAILURE(MakeSpacedEvents());
    ASSERT_EQ(Wait(Cep("file", {"run", "p.cep", "--input", "events.jsonl",
                                "--match-ids"})),
              0);
    expected_ = Sorted(Lines(Out("file")));
    ASSERT_EQ(expected_.size(), static_cast<size_t>(kPlantedFrauds));
  }

  // A host with topics auths (the events, keyed by card), matches, and
  // the changelog topics of groups takeover, coop, waiting and join (and
  // their second attempts).
  void StartHost() {
    ASSERT_TRUE(host_.Start({"--topic",      "auths",
                             "--topic",      "matches",
                             "--topic",      "takeover-changelog",
                             "--topic",      "coop-changelog",
                             "--topic",      "waiting-changelog",
                             "--topic",      "takeover2-changelog",
                             "--topic",      "coop2-changelog",
                             "--topic",      "waiting2-changelog",
                             "--topic",      "join-changelog",
                             "--topic",      "join2-changelog",
                             "--partitions", "8",
                             "--produce",    (dir_ / "events.jsonl").string(),
                             "--key-field",  "card"}));
    ASSERT_EQ(host_.produced(), "produced " + std::to_string(kEvents));
  }

  // The first line of `name`'s stderr.
  // (c): a process of `group` killed, the other takes over (`config`: more
  // flags of both).
  void Takeover(const std::string& group,
                const std::vector<std::string>& config);

  void KillAndResume(const std::string& group,
                     const std::string& killed_workers,
                     const std::string& resumed_workers);

  std::string Assignment(const std::string& name) const {
    return Lines(Err(name)).at(0);
  }

  std::vector<std::string> expected_;
};

// (a) One process over the whole topic: exactly the file's matches (seqs
// and ids are Kafka's: see the file comment).
TEST_F(KafkaRunTest, OneProcessFindsTheMatchesOfTheFile) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  ASSERT_EQ(Wait(Cep("one", {"run", "p.cep", "--input", Topic("auths"),
                             "--group", "one", "--kafka-stop-at-end",
                             "--match-ids", "--stats-json", "one.json"})),
            0)
      << Err("one");
  EXPECT_EQ(Assignment("one"),
            "cep: kafka: group 'one' assigned partitions 0,1,2,3,4,5,6,7 of "
            "'auths'");
  EXPECT_THAT(Lines(Err("one")).at(1),
              MatchesRegex("cep: 4000 events, 35 matches, 0 timeouts, 0 late, "
                           "0 errors in .*"));
  EXPECT_EQ(WithoutSeqs(Lines(Out("one"))), WithoutSeqs(expected_));
  // Every seq is a KafkaSeq: partition * 2^40 + offset.
  static const std::regex seq("\"seq\":([0-9]+)");
  for (const std::string& line : Lines(Out("one"))) {
    for (auto it = std::sregex_iterator(line.begin(), line.end(), seq);
         it != std::sregex_iterator(); ++it) {
      const uint64_t number = std::stoull((*it)[1].str());
      EXPECT_LT(number >> 40, 8u) << line;
      EXPECT_LT(number & ((uint64_t{1} << 40) - 1),
                static_cast<uint64_t>(kEvents))
          << line;
    }
  }
  // The producer partitioned by card: no key came on two partitions.
  EXPECT_THAT(ReadFile(dir_ / "one.json"),
              HasSubstr(",\"kafka_split_keys\":0}"));
}

// --format csv: the messages are rows, the header comes from
// --kafka-csv-header; the same matches as the CSV file.
TEST_F(KafkaRunTest, CsvRowsWithTheHeaderGivenAsAFlag) {
  ASSERT_EQ(
      Wait(Cep("gen", {"gen", "card-testing", "--events",
                       std::to_string(kEvents), "--seed", "7", "--keys", "200",
                       "--fraud-rate", "0.01", "--format", "csv"})),
      0);
  const std::vector<std::string> rows = Lines(Out("gen"));
  ASSERT_EQ(rows.at(0), "card,amount,merchant,result,ts");
  std::string csv = rows[0] + "\n";
  int64_t next_ts = 1764547200000;
  for (size_t idx = 1; idx < rows.size(); ++idx) {
    next_ts += 250;
    csv += rows[idx].substr(0, rows[idx].rfind(',') + 1) +
           std::to_string(next_ts) + "\n";
  }
  WriteFile(dir_ / "events.csv", csv);
  ASSERT_EQ(Wait(Cep("file", {"run", "p.cep", "--format", "csv", "--input",
                              "events.csv", "--match-ids"})),
            0);
  const std::vector<std::string> expected = Sorted(Lines(Out("file")));
  ASSERT_EQ(expected.size(), static_cast<size_t>(kPlantedFrauds));
  ASSERT_TRUE(
      host_.Start({"--topic", "auths", "--partitions", "8", "--produce",
                   (dir_ / "events.csv").string(), "--key-column", "0"}));
  ASSERT_EQ(host_.produced(), "produced " + std::to_string(kEvents));
  ASSERT_EQ(
      Wait(Cep("csv", {"run", "p.cep", "--format", "csv", "--input",
                       Topic("auths"), "--group", "csv", "--kafka-csv-header",
                       rows[0], "--kafka-stop-at-end", "--match-ids"})),
      0)
      << Err("csv");
  EXPECT_EQ(WithoutSeqs(Lines(Out("csv"))), WithoutSeqs(expected));
}

// (b) Two processes of one group: four partitions each, and together
// exactly the matches one process of another group finds, seqs and ids
// included (an event's seq is its partition and offset, whichever process
// reads it), and the file's.
//
// The split needs both processes in the group before either reads: the mock
// cluster waits 3 s after a group's first member joins before it assigns. On
// a machine so loaded that the second process starts later than that, the
// first takes every partition; such an attempt proves nothing about the
// split and is made again with a new group (at most three attempts).
TEST_F(KafkaRunTest, TwoProcessesOfOneGroupSplitThePartitions) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  std::string first;
  std::string second;
  std::string attempts;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::string group = "halves" + std::to_string(attempt);
    first = "first" + std::to_string(attempt);
    second = "second" + std::to_string(attempt);
    const std::vector<std::string> args = {"run",
                                           "p.cep",
                                           "--input",
                                           Topic("auths"),
                                           "--group",
                                           group,
                                           "--kafka-stop-at-end",
                                           "--kafka-timeout",
                                           "30s",
                                           "--match-ids"};
    const pid_t first_pid = Cep(first, args);
    const pid_t second_pid = Cep(second, args);
    const int first_status = Wait(first_pid);
    const int second_status = Wait(second_pid);
    const std::set<std::string> assignments = {Assignment(first),
                                               Assignment(second)};
    const std::set<std::string> split = {"cep: kafka: group '" + group +
                                             "' assigned partitions 0,1,2,3 of "
                                             "'auths'",
                                         "cep: kafka: group '" + group +
                                             "' assigned partitions 4,5,6,7 of "
                                             "'auths'"};
    if (first_status == 0 && second_status == 0 && assignments == split) {
      attempts.clear();
      break;
    }
    attempts +=
        "attempt " + std::to_string(attempt) + ":\n" + Err(first) + Err(second);
  }
  ASSERT_EQ(attempts, "") << "no attempt split the partitions";
  // Nothing was revoked and read twice: one assignment line each, then the
  // summary.
  EXPECT_THAT(Lines(Err(first)).at(1), MatchesRegex("cep: [0-9]+ events, .*"));
  EXPECT_THAT(Lines(Err(second)).at(1), MatchesRegex("cep: [0-9]+ events, .*"));
  std::vector<std::string> together = Lines(Out(first));
  for (const std::string& line : Lines(Out(second))) together.push_back(line);
  ASSERT_EQ(
      Wait(Cep("one", {"run", "p.cep", "--input", Topic("auths"), "--group",
                       "one", "--kafka-stop-at-end", "--match-ids"})),
      0)
      << Err("one");
  const std::vector<std::string> one = Sorted(Lines(Out("one")));
  EXPECT_EQ(Sorted(together), one);
  EXPECT_EQ(WithoutSeqs(together), WithoutSeqs(expected_));
  // The two processes' ids are those of the one process: 35 different ids.
  static const std::regex id("\"id\":\"([0-9a-f]{16})\"");
  std::set<std::string> ids;
  for (const std::string& line : together) {
    std::smatch found;
    ASSERT_TRUE(std::regex_search(line, found, id)) << line;
    ids.insert(found[1].str());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kPlantedFrauds));
}

// Matches to a topic: one message per match, the value the match line, the
// key the match's key; every message of a key in one partition.
TEST_F(KafkaRunTest, MatchesGoToATopicKeyedByTheMatchKey) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  ASSERT_EQ(Wait(Cep("sink", {"run", "p.cep", "--input", Topic("auths"),
                              "--group", "sink", "--kafka-stop-at-end",
                              "--match-ids", "--output", Topic("matches")})),
            0)
      << Err("sink");
  EXPECT_EQ(Out("sink"), "");
  std::vector<std::string> values;
  static const std::regex message(
      "([0-7])\t([^\t]+)\t(\\{\"pattern\":\"card_testing\",\"key\":\"([^\"]+)"
      "\".*)");
  for (const std::string& line : Messages("dump", "matches")) {
    std::smatch parts;
    ASSERT_TRUE(std::regex_match(line, parts, message)) << line;
    EXPECT_EQ(parts[2].str(), parts[4].str()) << line;
    values.push_back(parts[3].str());
  }
  EXPECT_EQ(WithoutSeqs(values), WithoutSeqs(expected_));
}

// --state rocksdb: a process killed with SIGKILL mid-stream and started
// again resumes from the partition offsets of its last checkpoint: its
// output file (truncated to the checkpoint's length) ends up exactly the
// file's matches.
// A paced run with durable state killed once some matches are out, then
// resumed to the end: exactly the file's matches, the resumed run reading
// only what the checkpoint had not. `killed_workers` and `resumed_workers`:
// --parallelism of each (the key groups are divided again on resume).
void KafkaRunTest::KillAndResume(const std::string& group,
                                 const std::string& killed_workers,
                                 const std::string& resumed_workers) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  const std::vector<std::string> args = {
      "run", "p.cep", "--input", Topic("auths"), "--group", group,
      "--kafka-stop-at-end", "--match-ids", "--state", "rocksdb:state",
      "--checkpoint-every", "100events", "--output", "matches.jsonl",
      // The killed member leaves the
      // group when its session expires.
      "--kafka-config", "session.timeout.ms=6000", "--kafka-config",
      "heartbeat.interval.ms=500"};
  std::vector<std::string> paced = args;
  paced.insert(paced.end(),
               {"--rate", "1000", "--parallelism", killed_workers});
  const pid_t killed = Cep("killed", paced);
  // Killed once some matches are out and more are to come.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Lines(ReadFile(dir_ / "matches.jsonl")).size() < 3 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(killed, SIGKILL);
  EXPECT_EQ(Wait(killed), -1);
  const size_t before = Lines(ReadFile(dir_ / "matches.jsonl")).size();
  EXPECT_GE(before, 3u);
  EXPECT_LT(before, static_cast<size_t>(kPlantedFrauds));
  std::vector<std::string> resume = args;
  resume.insert(resume.end(), {"--parallelism", resumed_workers});
  ASSERT_EQ(Wait(Cep("resumed", resume)), 0) << Err("resumed");
  const std::vector<std::string> events = Lines(Err("resumed"));
  ASSERT_GE(events.size(), 2u);
  // The resumed run read only what the checkpoint had not.
  EXPECT_THAT(events[1], MatchesRegex("cep: [0-9]+ events, .*"));
  EXPECT_THAT(events[1], ::testing::Not(HasSubstr("cep: 4000 events")));
  EXPECT_EQ(WithoutSeqs(Lines(ReadFile(dir_ / "matches.jsonl"))),
            WithoutSeqs(expected_));
}

TEST_F(KafkaRunTest, KilledProcessResumesFromCheckpointedOffsets) {
  KillAndResume("durable", "1", "1");
}

// Two workers with RocksDB state over a topic, killed, resumed with three.
TEST_F(KafkaRunTest, KilledWorkersResumeWithAnotherNumberOfWorkers) {
  KillAndResume("workers", "2", "3");
}

// After each checkpoint the offsets go to the group too: a later process of
// the group without a state directory starts where the checkpoint was (here
// the end: nothing left to read); a process of another group starts at the
// beginning.
TEST_F(KafkaRunTest, CheckpointCommitsOffsetsToTheGroup) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  // The mock cluster lets a group that its last member left form again
  // only after the session timeout.
  const std::vector<std::string> session = {
      "--kafka-config", "session.timeout.ms=6000", "--kafka-config",
      "heartbeat.interval.ms=500"};
  struct Step {
    std::string name;
    std::string group;
    std::vector<std::string> flags;
    std::string summary;
  };
  const Step steps[] = {
      {"durable",
       "committed",
       {"--state", "rocksdb:state", "--output", "durable.jsonl"},
       "cep: 4000 events, 35 matches, .*"},
      {"same", "committed", {}, "cep: 0 events, 0 matches, .*"},
      {"other", "other", {}, "cep: 4000 events, 35 matches, .*"},
  };
  for (const Step& step : steps) {
    std::vector<std::string> args = {"run",
                                     "p.cep",
                                     "--input",
                                     Topic("auths"),
                                     "--group",
                                     step.group,
                                     "--kafka-stop-at-end"};
    args.insert(args.end(), session.begin(), session.end());
    args.insert(args.end(), step.flags.begin(), step.flags.end());
    ASSERT_EQ(Wait(Cep(step.name, args)), 0) << Err(step.name);
    EXPECT_THAT(Lines(Err(step.name)).at(1), MatchesRegex(step.summary))
        << step.name;
  }
  EXPECT_EQ(Sorted(Lines(ReadFile(dir_ / "durable.jsonl"))).size(),
            static_cast<size_t>(kPlantedFrauds));
}

// --output kafka:// with --state rocksdb, killed and resumed: at least once.
// Matches written after the last checkpoint come again from the resumed
// run, with the same ids; dropping repeated ids gives exactly the file's
// matches.
TEST_F(KafkaRunTest, KilledProcessWritesMatchesAtLeastOnceWithStableIds) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  const std::vector<std::string> args = {"run",
                                         "p.cep",
                                         "--input",
                                         Topic("auths"),
                                         "--group",
                                         "durable",
                                         "--kafka-stop-at-end",
                                         "--match-ids",
                                         "--state",
                                         "rocksdb:state",
                                         "--checkpoint-every",
                                         "1000events",
                                         "--output",
                                         Topic("matches"),
                                         "--kafka-config",
                                         "session.timeout.ms=6000",
                                         "--kafka-config",
                                         "heartbeat.interval.ms=500"};
  std::vector<std::string> paced = args;
  paced.insert(paced.end(), {"--rate", "1000"});
  const pid_t killed = Cep("killed", paced);
  // Killed about half-way (the events are paced at 1000/s and the group
  // assigns after about 3 s).
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ::kill(killed, SIGKILL);
  EXPECT_EQ(Wait(killed), -1);
  ASSERT_EQ(Wait(Cep("resumed", args)), 0) << Err("resumed");
  std::vector<std::string> values;
  for (const std::string& line : Messages("dump", "matches")) {
    values.push_back(MessageValue(line));
  }
  EXPECT_GE(values.size(), expected_.size());
  std::vector<std::string> unique = Sorted(values);
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  EXPECT_EQ(WithoutSeqs(unique), WithoutSeqs(expected_));
}

// Complete match lines of `names`' output files (a process killed with
// SIGKILL may leave half a line), de-duplicated by id; every id has one
// line.
std::vector<std::string> UniqueById(const fs::path& dir,
                                    const std::vector<std::string>& names) {
  static const std::regex id("\"id\":\"([0-9a-f]{16})\"");
  std::map<std::string, std::string> by_id;
  for (const std::string& name : names) {
    for (const std::string& line : Lines(ReadFile(dir / name))) {
      std::smatch found;
      if (line.empty() || line.back() != '}' ||
          !std::regex_search(line, found, id)) {
        continue;
      }
      auto [it, inserted] = by_id.emplace(found[1].str(), line);
      EXPECT_EQ(it->second, line) << "two matches with id " << found[1];
    }
  }
  std::vector<std::string> lines;
  for (const auto& [key, line] : by_id) lines.push_back(line);
  return lines;
}

// The lines of `of` that `in` lacks (both sorted), by their key only:
// what a failed comparison of match lists prints.
std::string KeysMissing(const std::vector<std::string>& of,
                        const std::vector<std::string>& in) {
  static const std::regex key("\"key\":\"([^\"]+)\"");
  std::vector<std::string> missing;
  std::set_difference(of.begin(), of.end(), in.begin(), in.end(),
                      std::back_inserter(missing));
  std::string keys;
  for (const std::string& line : missing) {
    std::smatch found;
    keys += std::regex_search(line, found, key) ? found[1].str() : line;
    keys += " ";
  }
  return keys;
}

// Waits up to `seconds` until `path` has at least `count` complete lines.
bool WaitForLines(const fs::path& path, size_t count, int seconds = 60) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    size_t complete = 0;
    for (const std::string& line : Lines(ReadFile(path))) {
      complete += !line.empty() && line.back() == '}';
    }
    if (complete >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The flags of a process of `group` whose state follows its partitions
// (--kafka-changelog), with its own state directory and output file.
std::vector<std::string> ChangelogRun(const std::string& topic,
                                      const std::string& group,
                                      const std::string& name) {
  return {"run", "p.cep", "--input", topic, "--group", group, "--match-ids",
          "--kafka-changelog", "--state", "rocksdb:" + name + ".state",
          "--checkpoint-every", "100events", "--output", name + ".jsonl",
          "--kafka-timeout", "20s",
          // A killed member leaves the group when its session expires.
          "--kafka-config", "session.timeout.ms=3000", "--kafka-config",
          "heartbeat.interval.ms=300"};
}

// The partitions a process holds at its end, from the assigned and revoked
// lines of its stderr.
std::set<int> HeldAtEnd(const std::string& err) {
  static const std::regex line(
      "cep: kafka: (group '[^']+' assigned partitions|partitions) "
      "([0-9,]+) of '[^']+'( revoked)?.*");
  std::set<int> held;
  for (const std::string& text : Lines(err)) {
    std::smatch parts;
    if (!std::regex_match(text, parts, line)) continue;
    const bool revoked = parts[3].matched;
    std::istringstream numbers(parts[2].str());
    for (std::string number; std::getline(numbers, number, ',');) {
      if (revoked) {
        held.erase(std::stoi(number));
      } else {
        held.insert(std::stoi(number));
      }
    }
  }
  return held;
}

// (c) Two processes of one group with --kafka-changelog; one is killed
// with SIGKILL once it has emitted matches, the other takes its partitions
// over, restores their state from the changelog topic and reads them to the
// end: the union of their outputs, de-duplicated by id, is exactly the
// file's matches (a partial match the killed process had checkpointed
// completes in the survivor).
void KafkaRunTest::Takeover(const std::string& group,
                            const std::vector<std::string>& config) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  // The mock cluster of librdkafka 2.0.2 sometimes fences a member it should
  // not (both processes then hold partitions 4-7, and the staged takeover
  // does not happen): such an attempt is reported and staged again once,
  // with a new group. The outputs of a staged attempt are checked exactly.
  for (const std::string attempt : {"", "2"}) {
    const std::string killed_name = "killed" + attempt;
    const std::string survivor_name = "survivor" + attempt;
    std::vector<std::string> killed_args =
        ChangelogRun(Topic("auths"), group + attempt, killed_name);
    killed_args.insert(killed_args.end(), {"--rate", "400"});
    killed_args.insert(killed_args.end(), config.begin(), config.end());
    const pid_t killed = Cep(killed_name, killed_args);
    // The survivor joins once the killed one holds the partitions (joining
    // while the group forms lets the mock cluster fence a member).
    const bool formed = ::cep::testing::Eventually(
        [&] {
          return Err(killed_name).find("assigned partitions") !=
                 std::string::npos;
        },
        std::chrono::seconds(30));
    // The survivor reads slowly enough to be there when the killed one's
    // session expires (its half takes about 30 s; the kill comes within
    // 15 s, the session expires 3 s later), and until then ends only with
    // --kafka-stop-at-end.
    std::vector<std::string> survivor_args =
        ChangelogRun(Topic("auths"), group + attempt, survivor_name);
    survivor_args.insert(survivor_args.end(),
                         {"--rate", "70", "--kafka-stop-at-end"});
    survivor_args.insert(survivor_args.end(), config.begin(), config.end());
    const pid_t survivor = Cep(survivor_name, survivor_args);
    // Killed once it has written matches, or 15 s after the group formed
    // (in microbatches its first matches may come later than that; its
    // partitions have been checkpointed to the changelog by then either way:
    // every 100 events).
    if (formed) WaitForLines(dir_ / (killed_name + ".jsonl"), 2, 15);
    ::kill(killed, SIGKILL);
    EXPECT_EQ(Wait(killed), -1);
    if (!formed) ::kill(survivor, SIGKILL);
    const int survivor_exit = Wait(survivor, 100);
    const std::string err = Err(survivor_name) + Err(killed_name);
    const bool staged =
        formed && survivor_exit == 0 &&
        HeldAtEnd(Err(survivor_name)) == std::set<int>{0, 1, 2, 3, 4, 5, 6, 7};
    if (!staged && attempt.empty()) {
      std::cout << "takeover not staged (the survivor exited " << survivor_exit
                << "); staged again:\n"
                << err;
      continue;
    }
    ASSERT_TRUE(formed) << err;
    ASSERT_EQ(survivor_exit, 0) << err;
    // The survivor ended up with every partition.
    EXPECT_EQ(HeldAtEnd(Err(survivor_name)),
              (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7}))
        << err;
    const std::vector<std::string> found = WithoutSeqs(
        UniqueById(dir_, {killed_name + ".jsonl", survivor_name + ".jsonl"}));
    const std::vector<std::string> expected = WithoutSeqs(expected_);
    EXPECT_EQ(KeysMissing(expected, found), "") << err;
    EXPECT_EQ(KeysMissing(found, expected), "") << err;
    return;
  }
}

TEST_F(KafkaRunTest, KilledProcessPartitionsMoveWithTheirState) {
  Takeover("takeover", {});
}

// As above with cooperative-sticky assignment (incremental assign and
// unassign). The mock cluster of librdkafka 2.0.2 fences the survivor too
// when the killed member's session expires (its partitions are lost, then
// all eight assigned to it at once), so this checks the incremental calls
// and lost partitions, not that the survivor's partitions stay put.
TEST_F(KafkaRunTest, KilledProcessPartitionsMoveCooperatively) {
  Takeover("coop", {"--kafka-config",
                    "partition.assignment.strategy=cooperative-sticky"});
}

// As above in microbatches, with events waiting for the watermark (5 s of
// out-of-orderness: about 20 events, of every partition): a partition's
// waiting events go with it, in its marker. (--idle-timeout: a process left
// with partitions read to their end by the other is not held back by them.)
TEST_F(KafkaRunTest, KilledProcessPartitionsMoveWithWaitingEvents) {
  Takeover("waiting", {"--max-out-of-orderness", "5s", "--loop", "microbatch",
                       "--trigger", "50events", "--idle-timeout", "1s"});
}

// A second process joins the group and leaves it again (SIGTERM) while the
// first reads: the partitions go to it with their state and come back with
// theirs; after de-duplication by id nothing is lost or repeated. Both are
// paced, so that each holds partitions for a while (matches come late in
// the stream: most partial matches move).
TEST_F(KafkaRunTest, PartitionsGoAndComeBackWithTheirState) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  auto assigned = [this](const std::string& name, size_t times) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string err = Err(name);
      size_t count = 0;
      for (size_t at = err.find("assigned partitions"); at != std::string::npos;
           at = err.find("assigned partitions", at + 1)) {
        ++count;
      }
      if (count >= times) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  // An attempt the mock cluster's coordination spoils (after the visitor
  // leaves, `stays` is not given every partition back) is reported and
  // staged again once, with a new group; a staged attempt's outputs are
  // checked exactly.
  for (const std::string attempt : {"", "2"}) {
    const std::string group = "join" + attempt;
    const std::string stays_name = "stays" + attempt;
    const std::string visits_name = "visits" + attempt;
    std::vector<std::string> stays_args =
        ChangelogRun(Topic("auths"), group, stays_name);
    stays_args.insert(stays_args.end(),
                      {"--rate", "200", "--kafka-stop-at-end"});
    const pid_t stays = Cep(stays_name, stays_args);
    ASSERT_TRUE(assigned(stays_name, 1)) << Err(stays_name);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::vector<std::string> visits_args =
        ChangelogRun(Topic("auths"), group, visits_name);
    visits_args.insert(visits_args.end(), {"--rate", "200"});
    const pid_t visits = Cep(visits_name, visits_args);
    ASSERT_TRUE(assigned(visits_name, 1)) << Err(visits_name);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ::kill(visits, SIGTERM);
    EXPECT_EQ(Wait(visits), 0) << Err(visits_name);
    ASSERT_EQ(Wait(stays, 100), 0) << Err(stays_name);
    const std::string err = Err(stays_name) + Err(visits_name);
    if (HeldAtEnd(Err(stays_name)) != std::set<int>{0, 1, 2, 3, 4, 5, 6, 7} &&
        attempt.empty()) {
      std::cout << "partitions did not all come back; staged again:\n" << err;
      continue;
    }
    // stays: every partition, then half of them, then every one again.
    EXPECT_THAT(Err(stays_name), HasSubstr("revoked; their state is in '" +
                                           group + "-changelog'"));
    EXPECT_TRUE(assigned(stays_name, 3)) << err;
    EXPECT_EQ(HeldAtEnd(Err(stays_name)),
              (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7}))
        << err;
    const std::vector<std::string> found = WithoutSeqs(
        UniqueById(dir_, {stays_name + ".jsonl", visits_name + ".jsonl"}));
    const std::vector<std::string> expected = WithoutSeqs(expected_);
    EXPECT_EQ(KeysMissing(expected, found), "") << err;
    EXPECT_EQ(KeysMissing(found, expected), "") << err;
    return;
  }
}

// Event time per partition: a live partition without messages holds the
// others back (nothing is handed to the patterns), until --idle-timeout
// declares it idle. The topic has 2 partitions; every event is on
// partition 0.
TEST_F(KafkaRunTest, EmptyPartitionHoldsBackEventsUntilIdle) {
  const std::string events = (fs::path(CEP_SOURCE_DIR) / "tests" / "cases" /
                              "card_testing_basic" / "events.jsonl")
                                 .string();
  ASSERT_TRUE(
      host_.Start({"--topic", "auths", "--partitions", "2", "--produce", events,
                   "--key-field", "card", "--to-partition", "0"}));
  ASSERT_EQ(host_.produced(), "produced 12");
  // The file's one match: its cashout is released by the events after it.
  ASSERT_EQ(Wait(Cep("file", {"run", "p.cep", "--input", events})), 0);
  ASSERT_EQ(Lines(Out("file")).size(), 1u);
  struct Case {
    std::string name;
    std::vector<std::string> flags;
    std::string summary;
    std::string matches;
  };
  const Case cases[] = {
      {"held",
       {},
       "cep: 0 events, 0 matches, 0 timeouts, 0 late, 0 errors",
       ""},
      {"idle",
       {"--idle-timeout", "200ms"},
       "cep: 12 events, 1 matches, 0 timeouts, 0 late, 0 errors",
       Out("file")},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"run",          "p.cep",   "--input",
                                     Topic("auths"), "--group", c.name};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    const pid_t pid = Cep(c.name, args);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Err(c.name).empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The run goes on (no --kafka-stop-at-end): stopped by SIGTERM after
    // well over the idle timeout.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ::kill(pid, SIGTERM);
    EXPECT_EQ(Wait(pid), 0) << Err(c.name);
    const std::vector<std::string> lines = Lines(Err(c.name));
    ASSERT_GE(lines.size(), 3u) << Err(c.name);
    EXPECT_EQ(lines[0], "cep: kafka: group '" + c.name +
                            "' assigned partitions 0,1 of 'auths'");
    EXPECT_EQ(lines[1], "cep: stopped by a signal");
    EXPECT_EQ(lines[2].substr(0, c.summary.size()), c.summary);
    EXPECT_EQ(Out(c.name), c.matches);
  }
}

// Broker errors: Fetch and Produce requests that fail (injected with
// rd_kafka_mock_push_request_errors) and the broker down for 1.5 s while
// the events flow: librdkafka retries, and the topic gets exactly the file's
// matches, none lost and none twice (the idempotent producer).
TEST_F(KafkaRunTest, BrokerErrorsAndAnOutageLoseNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  // 6: NOT_LEADER_FOR_PARTITION; 7: REQUEST_TIMED_OUT.
  ASSERT_EQ(host_.Command("errors 1 5 6"), "ok");
  ASSERT_EQ(host_.Command("errors 0 3 7"), "ok");
  const pid_t pid =
      Cep("outage", {"run", "p.cep", "--input", Topic("auths"), "--group",
                     "outage", "--kafka-stop-at-end", "--match-ids", "--output",
                     Topic("matches"), "--rate", "2000"});
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Err("outage").empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(host_.Command("down 1"), "ok");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(host_.Command("up 1"), "ok");
  ASSERT_EQ(Wait(pid), 0) << Err("outage");
  EXPECT_EQ(Assignment("outage"),
            "cep: kafka: group 'outage' assigned partitions 0,1,2,3,4,5,6,7 "
            "of 'auths'");
  std::vector<std::string> values;
  for (const std::string& line : Messages("dump", "matches")) {
    values.push_back(MessageValue(line));
  }
  EXPECT_EQ(WithoutSeqs(values), WithoutSeqs(expected_));
}

// A message that does not decode stops the run, named by topic, partition
// and offset (one partition, so the offset is the line's index).
TEST_F(KafkaRunTest, BadMessageStopsTheRunNamingPartitionAndOffset) {
  WriteFile(dir_ / "bad.jsonl",
            "{\"card\":\"c1\",\"amount\":1.0,\"merchant\":\"m\","
            "\"result\":\"approved\",\"ts\":1000}\n"
            "{\"card\":\"c1\",\"amount\":\"x\",\"merchant\":\"m\","
            "\"result\":\"approved\",\"ts\":2000}\n");
  ASSERT_TRUE(
      host_.Start({"--topic", "auths", "--partitions", "1", "--produce",
                   (dir_ / "bad.jsonl").string(), "--key-field", "card"}));
  EXPECT_EQ(Wait(Cep("bad", {"run", "p.cep", "--input", Topic("auths"),
                             "--group", "bad", "--kafka-stop-at-end"})),
            1);
  EXPECT_THAT(Lines(Err("bad")),
              ElementsAre("cep: kafka: group 'bad' assigned partitions 0 of "
                          "'auths'",
                          "kafka topic 'auths' partition 0 offset 1: error: "
                          "field 'amount' must be a number, not a string"));
  // With --on-error skip it goes to the dead letters, verbatim.
  EXPECT_EQ(
      Wait(Cep("skip", {"run", "p.cep", "--input", Topic("auths"), "--group",
                        "skip", "--kafka-stop-at-end", "--on-error", "skip",
                        "--dead-letter", "dead.jsonl"})),
      0)
      << Err("skip");
  EXPECT_EQ(ReadFile(dir_ / "dead.jsonl"),
            Lines(ReadFile(dir_ / "bad.jsonl"))[1] + "\n");
}

// A key the producer sent to two partitions is reported and counted.
TEST_F(KafkaRunTest, KeyOnTwoPartitionsIsReported) {
  // Keyed by the merchant instead of the card: card c1's events go to the
  // partitions of merchants a to h, card c2's to one.
  std::string events;
  int64_t ts = 1000;
  for (char merchant = 'a'; merchant <= 'h'; ++merchant) {
    events += "{\"card\":\"c1\",\"amount\":5.0,\"merchant\":\"";
    events += merchant;
    events +=
        "\",\"result\":\"approved\",\"ts\":" + std::to_string(ts += 10) + "}\n";
  }
  events +=
      "{\"card\":\"c2\",\"amount\":5.0,\"merchant\":\"z\",\"result\":"
      "\"approved\",\"ts\":2000}\n";
  WriteFile(dir_ / "split.jsonl", events);
  ASSERT_TRUE(host_.Start({"--topic", "auths", "--partitions", "8", "--produce",
                           (dir_ / "split.jsonl").string(), "--key-field",
                           "merchant"}));
  ASSERT_EQ(Wait(Cep("split", {"run", "p.cep", "--input", Topic("auths"),
                               "--group", "split", "--kafka-stop-at-end",
                               "--stats-json", "split.json"})),
            0)
      << Err("split");
  const std::vector<std::string> lines = Lines(Err("split"));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_THAT(lines[1],
              MatchesRegex("cep: warning: kafka: key \"c1\" of pattern "
                           "'card_testing' came on partitions [0-7] and [0-7] "
                           "of 'auths'; the producer must partition by the "
                           "key \\(counted in --stats-json as "
                           "kafka_split_keys\\)"));
  EXPECT_THAT(lines[2], MatchesRegex("cep: 9 events, 0 matches, .*"));
  EXPECT_THAT(ReadFile(dir_ / "split.json"),
              HasSubstr(",\"kafka_split_keys\":1}"));
}

// No broker at the address: a clear error after --kafka-timeout, exit 1.
TEST_F(KafkaRunTest, UnreachableBrokerFailsAfterTheTimeout) {
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(
      Wait(Cep("down", {"run", "p.cep", "--input", "kafka://127.0.0.1:1/auths",
                        "--group", "g", "--kafka-timeout", "2s"})),
      1);
  EXPECT_EQ(Err("down"),
            "kafka://127.0.0.1:1/auths: error: no broker answered within 2s "
            "(--kafka-timeout)\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started,
            std::chrono::seconds(20));
}

// --kafka-changelog over a group whose changelog topic does not have the
// input's partition count (the mock cluster creates a topic a client asks
// about, with 4 partitions, as a broker with auto.create.topics.enable
// does with its default count): a clear error, exit 1.
TEST_F(KafkaRunTest, ChangelogTopicWithOtherPartitionCountIsRefused) {
  ASSERT_NO_FATAL_FAILURE(MakeEvents());
  ASSERT_NO_FATAL_FAILURE(StartHost());
  EXPECT_EQ(Wait(Cep("nochangelog",
                     ChangelogRun(Topic("auths"), "nochangelog", "x"))),
            1);
  EXPECT_EQ(Err("nochangelog"),
            Topic("nochangelog-changelog") +
                ": error: the changelog topic has 4 partitions; it needs 8 "
                "(those of 'auths')\n");
}

// Command-line errors, exit 2.
TEST_F(KafkaRunTest, FlagErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::string usage = " (see 'cep --help')\n";
  const Case cases[] = {
      {{"--input", "kafka://h/t", "--group", "g"},
       "cep: error: --input: 'kafka://h/t': broker 'h' is not HOST:PORT"},
      {{"--input", "kafka://h:1/t"},
       "cep: error: --input kafka:// needs --group G"},
      {{"--group", "g"},
       "cep: error: --group needs --input kafka://HOST:PORT/TOPIC"},
      {{"--input", "kafka://h:1/t", "--group", "g", "--kafka-config", "x"},
       "cep: error: --kafka-config: 'x' is not key=value"},
      {{"--input", "kafka://h:1/t", "--group", "g", "--kafka-timeout", "0"},
       "cep: error: --kafka-timeout: '0' is not a positive duration"},
      {{"--input", "kafka://h:1/t", "--group", "g", "--format", "csv"},
       "cep: error: --input kafka:// with --format csv needs "
       "--kafka-csv-header (the messages are rows without a header)"},
      {{"--input", "kafka://h:1/t", "--group", "g", "--kafka-csv-header", "a"},
       "cep: error: --kafka-csv-header needs --format csv"},
      {{"--kafka-config", "acks=all"},
       "cep: error: --kafka-config needs a kafka:// --input or --output"},
      {{"--late", "kafka://h:1/t"},
       "cep: error: --late: only --output can be kafka:// yet"},
      {{"--kafka-changelog"},
       "cep: error: --kafka-changelog needs --input kafka://HOST:PORT/TOPIC"},
      {{"--input", "kafka://h:1/t", "--group", "g", "--kafka-changelog"},
       "cep: error: --kafka-changelog needs --state rocksdb:DIR"},
      {{"--input", "kafka://h:1/t", "--group", "g", "--kafka-changelog",
        "--state", "rocksdb:s", "--parallelism", "2"},
       "cep: error: --kafka-changelog needs --parallelism 1"},
      {{"--input", "kafka://h:1/t", "--group", "g", "--kafka-changelog",
        "--state", "rocksdb:s", "--watch"},
       "cep: error: --kafka-changelog cannot be used with --watch or "
       "--migrate"},
  };
  int idx = 0;
  for (const Case& c : cases) {
    std::vector<std::string> args = {"run", "p.cep"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const std::string name = "flags" + std::to_string(idx++);
    EXPECT_EQ(Wait(Cep(name, args)), 2) << c.error;
    EXPECT_EQ(Err(name), c.error + usage);
  }
}

}  // namespace
