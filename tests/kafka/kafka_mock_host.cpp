// kafka_mock_host: hosts librdkafka's mock Kafka cluster for the tests of
// tests/kafka/, so that several `cep run` processes can use one cluster.
//
//   kafka_mock_host --topic T [--topic T2]... [--partitions 8] [--brokers 1]
//                   [--produce FILE (--key-field NAME | --key-column N)
//                    [--to-partition P]]
//
// Creates the cluster and the topics (each with --partitions partitions),
// prints the bootstrap servers (HOST:PORT[,HOST:PORT]) as its first line on
// stdout, then, with
// --produce, writes each non-blank line of FILE (JSON lines) to the first
// topic as
// one message keyed by the value of the field NAME (librdkafka's default
// partitioner: one key, one partition; with --to-partition, every message
// to partition P); with --key-column, FILE is CSV: its header row is not
// produced and the key is column N (0-based; no quoting), waits until every
// message is acknowledged and prints "produced N". It then serves until stdin
// closes or SIGTERM/SIGINT comes, and obeys one command per line of stdin,
// answering "ok" (or what went wrong) on a line of stdout:
//   down B / up B            broker B (1-based) stops / starts answering
//   errors API COUNT ERROR   the next COUNT requests of Kafka API key API
//                            (0 Produce, 1 Fetch) fail with error code ERROR
//
//   kafka_mock_host --dump BOOTSTRAP TOPIC
//
// Prints every message of TOPIC on the cluster at BOOTSTRAP (a running
// host's), from the start of each partition to its current end, one line
// each: PARTITION, a tab, the key, a tab, the value.

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <unistd.h>

namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) { g_stop.store(true); }

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "kafka_mock_host: " << message << "\n";
  std::exit(1);
}

// The value of the member `field` of the JSON object `line`, as text: a
// string's characters between its quotes, or a number's digits; empty when
// there is none. Enough for the tests' flat events.
// (--key-column: see CsvColumn.)
std::string_view FieldOf(std::string_view line, const std::string& field) {
  const std::string needle = "\"" + field + "\":";
  const size_t at = line.find(needle);
  if (at == std::string_view::npos) return {};
  size_t start = at + needle.size();
  while (start < line.size() && line[start] == ' ') ++start;
  if (start < line.size() && line[start] == '"') {
    const size_t end = line.find('"', start + 1);
    if (end == std::string_view::npos) return {};
    return line.substr(start + 1, end - start - 1);
  }
  const size_t end = line.find_first_of(",}", start);
  return line.substr(start, end - start);
}

// Column `column` (0-based) of a CSV row without quoted fields.
std::string_view CsvColumn(std::string_view row, int column) {
  size_t start = 0;
  for (int idx = 0; idx < column; ++idx) {
    start = row.find(',', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  const size_t end = row.find(',', start);
  return row.substr(start, end == std::string_view::npos ? end : end - start);
}

rd_kafka_t* NewClient(rd_kafka_type_t type, const char* bootstrap) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (bootstrap != nullptr &&
      rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, error,
                        sizeof(error)) != RD_KAFKA_CONF_OK) {
    Fail(error);
  }
  rd_kafka_conf_set(conf, "log_level", "0", error, sizeof(error));
  // rd_kafka_consumer_poll() needs a group, even with assign().
  if (type == RD_KAFKA_CONSUMER) {
    rd_kafka_conf_set(conf, "group.id", "kafka_mock_host_dump", error,
                      sizeof(error));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", error,
                      sizeof(error));
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof(error));
  if (rk == nullptr) Fail(error);
  return rk;
}

// Writes the lines of `path` to `topic`, each keyed by its `key_field`.
long Produce(const char* bootstrap, const std::string& topic,
             const std::string& path, const std::string& key_field,
             int key_column, int32_t to_partition) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("cannot read " + path);
  rd_kafka_t* producer = NewClient(RD_KAFKA_PRODUCER, bootstrap);
  long produced = 0;
  std::string line;
  if (key_column >= 0) std::getline(in, line);  // the CSV header
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string_view key = key_column >= 0 ? CsvColumn(line, key_column)
                                                 : FieldOf(line, key_field);
    while (true) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_PARTITION(to_partition),
          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_VALUE(line.data(), line.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) Fail(rd_kafka_err2str(err));
      rd_kafka_poll(producer, 100);
    }
    ++produced;
  }
  if (rd_kafka_flush(producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail("messages not acknowledged within 30 s");
  }
  rd_kafka_destroy(producer);
  return produced;
}

// --dump: the messages of every partition of `topic`, up to their ends.
int Dump(const char* bootstrap, const std::string& topic) {
  rd_kafka_t* consumer = NewClient(RD_KAFKA_CONSUMER, bootstrap);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* handle =
      rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  if (rd_kafka_metadata(consumer, 0, handle, &metadata, 10000) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      metadata->topic_cnt != 1) {
    Fail("no metadata for " + topic);
  }
  const int partitions = metadata->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(handle);
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(partitions);
  int open = 0;
  std::vector<int64_t> ends(static_cast<size_t>(partitions));
  for (int partition = 0; partition < partitions; ++partition) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(consumer, topic.c_str(), partition,
                                         &low, &high,
                                         10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Fail("no offsets for " + topic);
    }
    ends[static_cast<size_t>(partition)] = high;
    if (high > low) {
      rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)
          ->offset = low;
      ++open;
    }
  }
  rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  while (open > 0) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 10000);
    if (message == nullptr) Fail("no message within 10 s");
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cout << message->partition << "\t"
                << std::string_view(static_cast<const char*>(message->key),
                                    message->key_len)
                << "\t"
                << std::string_view(static_cast<const char*>(message->payload),
                                    message->len)
                << "\n";
      if (message->offset + 1 ==
          ends[static_cast<size_t>(message->partition)]) {
        --open;
      }
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return 0;
}

// One command of stdin; what to answer.
std::string Obey(rd_kafka_mock_cluster_t* cluster, const std::string& line) {
  std::istringstream words(line);
  std::string verb;
  words >> verb;
  if (verb == "down" || verb == "up") {
    int32_t broker = 0;
    words >> broker;
    const rd_kafka_resp_err_t err =
        verb == "down" ? rd_kafka_mock_broker_set_down(cluster, broker)
                       : rd_kafka_mock_broker_set_up(cluster, broker);
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : rd_kafka_err2str(err);
  }
  if (verb == "errors") {
    int api_key = 0;
    size_t count = 0;
    int error = 0;
    words >> api_key >> count >> error;
    std::vector<rd_kafka_resp_err_t> errors(
        count, static_cast<rd_kafka_resp_err_t>(error));
    rd_kafka_mock_push_request_errors_array(
        cluster, static_cast<int16_t>(api_key), count, errors.data());
    return "ok";
  }
  return "unknown command: " + line;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "--dump") {
    return Dump(argv[2], argv[3]);
  }
  std::vector<std::string> topics;
  int partitions = 8;
  int brokers = 1;
  std::string produce;
  std::string key_field;
  int32_t to_partition = RD_KAFKA_PARTITION_UA;
  int key_column = -1;
  for (int idx = 1; idx < argc; ++idx) {
    const std::string_view arg = argv[idx];
    if (idx + 1 == argc) Fail("flag " + std::string(arg) + " needs a value");
    const char* value = argv[++idx];
    if (arg == "--topic") {
      topics.push_back(value);
    } else if (arg == "--partitions") {
      partitions = std::atoi(value);
    } else if (arg == "--brokers") {
      brokers = std::atoi(value);
    } else if (arg == "--produce") {
      produce = value;
    } else if (arg == "--key-column") {
      key_column = std::atoi(value);
    } else if (arg == "--to-partition") {
      to_partition = std::atoi(value);
    } else if (arg == "--key-field") {
      key_field = value;
    } else {
      Fail("unknown flag " + std::string(arg));
    }
  }
  if (topics.empty()) Fail("--topic is required");
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  rd_kafka_t* host = NewClient(RD_KAFKA_PRODUCER, nullptr);
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(host, brokers);
  if (cluster == nullptr) Fail("cannot create the mock cluster");
  for (const std::string& topic : topics) {
    if (rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, 1) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      Fail("cannot create topic " + topic);
    }
  }
  const char* bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  std::cout << bootstrap << std::endl;
  if (!produce.empty()) {
    std::cout << "produced "
              << Produce(bootstrap, topics[0], produce, key_field, key_column,
                         to_partition)
              << std::endl;
  }
  // Serves until stdin closes or a signal comes, obeying the commands on
  // stdin (see the file comment).
  std::string command;
  while (!g_stop.load()) {
    struct pollfd wait = {.fd = 0, .events = POLLIN, .revents = 0};
    if (::poll(&wait, 1, 100) <= 0) continue;
    char c;
    if (::read(0, &c, 1) != 1) break;
    if (c != '\n') {
      command += c;
      continue;
    }
    std::cout << Obey(cluster, command) << std::endl;
    command.clear();
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(host);
  return 0;
}
