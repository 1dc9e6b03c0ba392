// The flag table of `cep run`'s Kafka flags: see run_kafka.hpp.

#include "run_kafka.hpp"

#include <vector>

#include "args.hpp"

namespace cep::cli {

std::vector<FlagSpec> KafkaFlagSpecs() {
  return {
      {.name = "group",
       .value_name = "G",
       .help = "with --input kafka://: the consumer group; processes of one "
               "group share the topic's partitions"},
      {.name = "kafka-config",
       .value_name = "KEY=VALUE",
       .help = "a librdkafka property for the Kafka input and output (may "
               "be repeated); enable.auto.commit cannot be set",
       .repeatable = true},
      {.name = "idle-timeout",
       .value_name = "DURATION",
       .default_value = "0",
       .help = "with --input kafka://: a partition without messages for "
               "this long stops holding back the watermark (0: never)"},
      {.name = "kafka-csv-header",
       .value_name = "LINE",
       .help = "with --input kafka:// and --format csv: the header row of "
               "the messages, which are rows without one"},
      {.name = "kafka-changelog",
       .help = "with --input kafka:// and --state: the state follows its "
               "partitions to other processes of the group through the "
               "compacted topic G-changelog (which must exist, with the "
               "input's partition count); needs --parallelism 1"},
      {.name = "kafka-stop-at-end",
       .help = "with --input kafka://: end the run (as at the end of a file) "
               "once every assigned partition reached the end it had when "
               "assigned"},
      {.name = "kafka-timeout",
       .value_name = "DURATION",
       .default_value = "30s",
       .help = "how long Kafka brokers may take to answer (metadata, "
               "partition assignment, acknowledgements) before the run "
               "fails"},
  };
}

}  // namespace cep::cli
