#include "cep/version.hpp"

// Set for this file only by CMakeLists.txt, from project(VERSION ...).
#ifndef CEP_VERSION_STRING
#error "CEP_VERSION_STRING is not defined; build with CMake"
#endif

namespace cep {

std::string_view Version() noexcept { return CEP_VERSION_STRING; }

}  // namespace cep
