// cep/version.hpp — the version of the Cepheus library that is linked in.
// The value is the CMake project version (MAJOR.MINOR.PATCH), compiled into
// the library, so it names the library binary, not the headers used to build
// the caller. The `cep` command prints it for `cep version`.
//
// Example:
//   std::cout << "cepheus " << cep::Version() << '\n';  // "cepheus 0.1.0"

#pragma once

#include <string_view>

namespace cep {

// Returns the library version, for example "0.1.0". The view refers to a
// string literal, so it stays valid for the life of the program. Thread-safe.
[[nodiscard]] std::string_view Version() noexcept;

}  // namespace cep
