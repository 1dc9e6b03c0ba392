// src/cli/run_kafka.hpp — the flag table of `cep run`'s Kafka flags: --group,
// --kafka-config, --idle-timeout, --kafka-csv-header, --kafka-stop-at-end and
// --kafka-timeout (--input and --output take kafka:// URLs too). They are
// read by cep::ParseKafkaFlags (cep/run_kafka.hpp), which
// examples/fraud_service shares, and run by cep::KafkaRun.
//
// Example (in RunCommand):
//   for (FlagSpec& flag : KafkaFlagSpecs()) spec.flags.push_back(flag);
#pragma once

#include <vector>

#include "args.hpp"

namespace cep::cli {

// The flag table entries, for RunCommand().
std::vector<FlagSpec> KafkaFlagSpecs();

}  // namespace cep::cli
