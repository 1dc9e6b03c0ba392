// RunSource: RunPatternFile (cep/run.hpp) over any Source (source.hpp): a
// file or stdin (what RunPatternFile passes), or Kafka (kafka_source.hpp).
// Internal to src/run/: not installed, not under include/.
//
// Example:
//   CEP_ASSIGN_OR_RETURN(std::unique_ptr<run::KafkaSource> source,
//                        run::KafkaSource::Open(file, kafka_options));
//   CEP_ASSIGN_OR_RETURN(RunStats stats,
//                        run::RunSource(file, *source, source->name(),
//                                       options, outputs));
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

#include "cep/dsl.hpp"
#include "cep/run.hpp"

#include "source.hpp"

namespace cep::run {

// As RunPatternFile, reading the frames of `source`; `input_name` names it
// in errors. With a checkpoint of a source with several partitions,
// resuming calls SeekPartitions(), and every checkpoint records
// Positions() and then calls Committed(). Errors: those of RunPatternFile,
// and the source's Status() when reading fails.
[[nodiscard]] absl::StatusOr<RunStats> RunSource(const PatternFile& file,
                                                 Source& source,
                                                 std::string_view input_name,
                                                 const RunOptions& options,
                                                 RunOutputs& outputs);

}  // namespace cep::run
