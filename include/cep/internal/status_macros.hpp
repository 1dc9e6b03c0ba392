// cep/internal/status_macros.hpp — propagate absl::Status without boilerplate.
// Same shape as upstream abseil's ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN,
// which Debian's abseil 20220623 lacks; switching later is a rename.
//
// Example:
//   CEP_RETURN_IF_ERROR(backend.Flush());
//   CEP_ASSIGN_OR_RETURN(cep::Nfa<Order> nfa, cep::CompilePattern(pattern));
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CEP_INTERNAL_CONCAT_IMPL(a, b) a##b
#define CEP_INTERNAL_CONCAT(a, b) CEP_INTERNAL_CONCAT_IMPL(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define CEP_RETURN_IF_ERROR(expr)                               \
  do {                                                          \
    if (absl::Status cep_status_ = (expr); !cep_status_.ok()) { \
      return cep_status_;                                       \
    }                                                           \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when not OK,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
// NOTE: expands to several statements; parenthesise types with commas.
#define CEP_ASSIGN_OR_RETURN(lhs, rexpr)                                      \
  CEP_INTERNAL_ASSIGN_OR_RETURN(CEP_INTERNAL_CONCAT(cep_statusor_, __LINE__), \
                                lhs, rexpr)

#define CEP_INTERNAL_ASSIGN_OR_RETURN(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) {                                     \
    return std::move(statusor).status();                    \
  }                                                         \
  lhs = *std::move(statusor)
