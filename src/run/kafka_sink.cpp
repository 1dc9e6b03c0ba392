// KafkaOutput: see kafka_sink.hpp.

#include "kafka_sink.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <librdkafka/rdkafka.h>

#include "cep/internal/status_macros.hpp"

#include "../io/io_util.hpp"
#include "kafka_config.hpp"

namespace cep::run {
namespace {

using io::Cat;

// How long one wait for room in librdkafka's queue lasts.
constexpr int kQueueFullWaitMs = 100;

extern "C" void DeliveryCallback(rd_kafka_t* rk,
                                 const rd_kafka_message_t* message,
                                 void* opaque) {
  (void)rk;
  static_cast<KafkaOutput*>(opaque)->OnDelivery(message->err ==
                                                RD_KAFKA_RESP_ERR_NO_ERROR);
}

// The end of the JSON string that starts at `text[start]` (its opening
// quote): the index of its closing quote, or npos.
size_t StringEnd(std::string_view text, size_t start) {
  for (size_t idx = start + 1; idx < text.size(); ++idx) {
    if (text[idx] == '\\') {
      ++idx;
    } else if (text[idx] == '"') {
      return idx;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view MatchKeyOf(std::string_view line) {
  constexpr std::string_view kPattern = "{\"pattern\":";
  constexpr std::string_view kKey = ",\"key\":";
  if (line.substr(0, kPattern.size()) != kPattern) return {};
  const size_t name_end = StringEnd(line, kPattern.size());
  if (name_end == std::string_view::npos ||
      line.substr(name_end + 1, kKey.size()) != kKey) {
    return {};
  }
  const size_t start = name_end + 1 + kKey.size();
  if (start >= line.size()) return {};
  if (line[start] == '"') {
    const size_t end = StringEnd(line, start);
    if (end == std::string_view::npos) return {};
    return line.substr(start + 1, end - start - 1);
  }
  const size_t end = line.find_first_of(",}", start);
  if (end == std::string_view::npos) return {};
  const std::string_view value = line.substr(start, end - start);
  return value == "null" ? std::string_view() : value;
}

absl::StatusOr<std::unique_ptr<KafkaOutput>> KafkaOutput::Open(
    KafkaOutputOptions options) {
  std::unique_ptr<KafkaOutput> output(new KafkaOutput(std::move(options)));
  CEP_RETURN_IF_ERROR(output->Connect());
  return output;
}

KafkaOutput::KafkaOutput(KafkaOutputOptions options)
    : options_(std::move(options)),
      name_(KafkaName(options_.url)),
      stream_(this) {}

KafkaOutput::~KafkaOutput() {
  if (producer_ == nullptr) return;
  rd_kafka_flush(producer_, static_cast<int>(options_.timeout.count()));
  rd_kafka_destroy(producer_);
}

absl::Status KafkaOutput::Connect() {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [conf](const std::string& key, const std::string& value) {
    return SetKafkaConfig(conf, key, value);
  };
  absl::Status status = [&]() -> absl::Status {
    CEP_RETURN_IF_ERROR(
        set("bootstrap.servers", options_.url.bootstrap_servers));
    CEP_RETURN_IF_ERROR(set("client.id", "cep"));
    CEP_RETURN_IF_ERROR(set("enable.idempotence", "true"));
    CEP_RETURN_IF_ERROR(
        set("message.timeout.ms", std::to_string(options_.timeout.count())));
    return SetUserKafkaConfig(conf, options_.config);
  }();
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, DeliveryCallback);
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (producer_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(Cat(name_, ": error: ", error));
  }
  return TopicPartitionCount(producer_, options_.url, options_.timeout)
      .status();
}

void KafkaOutput::OnDelivery(bool ok) {
  if (ok) {
    ++delivered_;
  } else {
    ++failed_;
  }
}

KafkaOutput::int_type KafkaOutput::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) {
    return traits_type::not_eof(c);
  }
  const char ch = traits_type::to_char_type(c);
  if (ch == '\n') {
    Produce();
  } else {
    line_ += ch;
  }
  return c;
}

std::streamsize KafkaOutput::xsputn(const char* data, std::streamsize size) {
  std::string_view rest(data, static_cast<size_t>(size));
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    if (newline == std::string_view::npos) {
      line_ += rest;
      break;
    }
    line_ += rest.substr(0, newline);
    Produce();
    rest.remove_prefix(newline + 1);
  }
  return size;
}

void KafkaOutput::Produce() {
  const std::string_view key = MatchKeyOf(line_);
  while (true) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(options_.url.topic.c_str()),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : const_cast<char*>(key.data()),
                       key.size()),
        RD_KAFKA_V_VALUE(line_.data(), line_.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) failed_produce_ = true;
      break;
    }
    // librdkafka's queue is full: deliveries make room.
    rd_kafka_poll(producer_, kQueueFullWaitMs);
  }
  rd_kafka_poll(producer_, 0);
  line_.clear();
}

int KafkaOutput::sync() {
  if (!line_.empty()) Produce();
  const rd_kafka_resp_err_t err =
      rd_kafka_flush(producer_, static_cast<int>(options_.timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || failed_ > 0 || failed_produce_) {
    return -1;
  }
  return 0;
}

}  // namespace cep::run
