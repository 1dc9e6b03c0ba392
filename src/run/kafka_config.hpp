// Setting librdkafka properties with errors that name the flag: shared by
// the Kafka source and the Kafka output.
// Internal to src/run/: not installed, not under include/.
//
// Example:
//   CEP_RETURN_IF_ERROR(SetKafkaConfig(conf, "client.id", "cep"));
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include <librdkafka/rdkafka.h>

#include "../io/io_util.hpp"
#include "kafka_url.hpp"

namespace cep::run {

// Sets `key` to `value` in `conf`. Errors: kInvalidArgument
// "--kafka-config KEY=VALUE: WHY" when librdkafka refuses it.
inline absl::Status SetKafkaConfig(rd_kafka_conf_t* conf,
                                   const std::string& key,
                                   const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error,
                        sizeof(error)) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(
        io::Cat("--kafka-config ", key, "=", value, ": ", error));
  }
  return absl::OkStatus();
}

// Sets the user's properties (--kafka-config, in order) after ours, and
// quiets librdkafka's log unless they set "debug". Errors: as
// SetKafkaConfig.
inline absl::Status SetUserKafkaConfig(
    rd_kafka_conf_t* conf,
    const std::vector<std::pair<std::string, std::string>>& config) {
  bool debug = false;
  for (const auto& [key, value] : config) {
    if (key == "debug") debug = true;
    if (absl::Status status = SetKafkaConfig(conf, key, value); !status.ok()) {
      return status;
    }
  }
  if (!debug) QuietKafkaLog(conf);
  return absl::OkStatus();
}

}  // namespace cep::run
