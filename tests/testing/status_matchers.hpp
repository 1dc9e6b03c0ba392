// testing/status_matchers.hpp — gMock matchers for absl::Status and
// absl::StatusOr<T>, with upstream abseil's names (Debian's abseil 20220623
// does not ship them). Each works on both Status and StatusOr<T>.
//
//   IsOk()                        status is OK
//   StatusIs(code, message)       code equals `code` (or matches a matcher) and
//                                 the message matches `message`: a string for
//                                 equality, or any std::string matcher
//   IsOkAndHolds(matcher)         StatusOr<T> is OK and its value matches
//
// Example:
//   using ::cep::testing::IsOkAndHolds;
//   using ::cep::testing::StatusIs;
//   EXPECT_THAT(ParsePattern(text),
//               StatusIs(absl::StatusCode::kInvalidArgument,
//                        ::testing::HasSubstr("expected condition")));
//   EXPECT_THAT(Sum({1, 2}), IsOkAndHolds(3));
//
// NOTE: inside namespace cep, `testing::` names this namespace; write
// `::testing::HasSubstr` for gMock's own matchers there.

#pragma once

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cep::testing {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// Describes a status as "OK" or "INVALID_ARGUMENT: message".
inline std::string StatusText(const absl::Status& status) {
  return status.ToString();
}

// IsOk(): polymorphic over Status and StatusOr<T>.
class IsOkMatcherImpl {
 public:
  template <typename StatusType>
  bool MatchAndExplain(const StatusType& actual,
                       ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    if (!status.ok()) {
      *listener << "which has status " << StatusText(status);
    }
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

// StatusIs(): the code and message checks shared by every status type.
class StatusIsMatcherCommonImpl {
 public:
  StatusIsMatcherCommonImpl(
      ::testing::Matcher<absl::StatusCode> code_matcher,
      ::testing::Matcher<const std::string&> message_matcher)
      : code_matcher_(std::move(code_matcher)),
        message_matcher_(std::move(message_matcher)) {}

  void DescribeTo(std::ostream* os) const {
    *os << "has a status code that ";
    code_matcher_.DescribeTo(os);
    *os << ", and has an error message that ";
    message_matcher_.DescribeTo(os);
  }

  void DescribeNegationTo(std::ostream* os) const {
    *os << "either has a status code that ";
    code_matcher_.DescribeNegationTo(os);
    *os << ", or has an error message that ";
    message_matcher_.DescribeNegationTo(os);
  }

  bool MatchAndExplain(const absl::Status& status,
                       ::testing::MatchResultListener* listener) const {
    *listener << "which has status " << StatusText(status);
    ::testing::StringMatchResultListener code_listener;
    if (!code_matcher_.MatchAndExplain(status.code(), &code_listener)) {
      *listener << ", whose code is wrong";
      if (!code_listener.str().empty()) {
        *listener << " (" << code_listener.str() << ")";
      }
      return false;
    }
    // absl::string_view is not std::string_view in Debian's abseil, and
    // gMock's string matchers take std::string.
    const std::string message(status.message());
    ::testing::StringMatchResultListener message_listener;
    if (!message_matcher_.MatchAndExplain(message, &message_listener)) {
      *listener << ", whose message is wrong";
      if (!message_listener.str().empty()) {
        *listener << " (" << message_listener.str() << ")";
      }
      return false;
    }
    return true;
  }

 private:
  const ::testing::Matcher<absl::StatusCode> code_matcher_;
  const ::testing::Matcher<const std::string&> message_matcher_;
};

// StatusIs(): polymorphic over Status and StatusOr<T>.
class StatusIsMatcherImpl {
 public:
  explicit StatusIsMatcherImpl(StatusIsMatcherCommonImpl common)
      : common_(std::move(common)) {}

  template <typename StatusType>
  bool MatchAndExplain(const StatusType& actual,
                       ::testing::MatchResultListener* listener) const {
    return common_.MatchAndExplain(GetStatus(actual), listener);
  }
  void DescribeTo(std::ostream* os) const { common_.DescribeTo(os); }
  void DescribeNegationTo(std::ostream* os) const {
    common_.DescribeNegationTo(os);
  }

 private:
  StatusIsMatcherCommonImpl common_;
};

// IsOkAndHolds(): the monomorphic matcher for one StatusOr<T> type.
template <typename StatusOrType>
class IsOkAndHoldsMatcherImpl
    : public ::testing::MatcherInterface<const StatusOrType&> {
 public:
  using value_type = typename StatusOrType::value_type;

  template <typename InnerMatcher>
  explicit IsOkAndHoldsMatcherImpl(InnerMatcher&& inner_matcher)
      : inner_matcher_(::testing::SafeMatcherCast<const value_type&>(
            std::forward<InnerMatcher>(inner_matcher))) {}

  void DescribeTo(std::ostream* os) const override {
    *os << "is OK and has a value that ";
    inner_matcher_.DescribeTo(os);
  }

  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not OK, or has a value that ";
    inner_matcher_.DescribeNegationTo(os);
  }

  bool MatchAndExplain(
      const StatusOrType& actual,
      ::testing::MatchResultListener* listener) const override {
    if (!actual.ok()) {
      *listener << "which has status " << StatusText(actual.status());
      return false;
    }
    ::testing::StringMatchResultListener inner_listener;
    const bool matches =
        inner_matcher_.MatchAndExplain(*actual, &inner_listener);
    *listener << "which holds " << ::testing::PrintToString(*actual);
    if (!inner_listener.str().empty()) {
      *listener << ", " << inner_listener.str();
    }
    return matches;
  }

 private:
  const ::testing::Matcher<const value_type&> inner_matcher_;
};

// IsOkAndHolds(): converts to the matcher for whichever StatusOr<T> it is
// used on.
template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner_matcher)
      : inner_matcher_(std::move(inner_matcher)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT
    using Bare = std::remove_cv_t<std::remove_reference_t<StatusOrType>>;
    return ::testing::Matcher<StatusOrType>(
        new IsOkAndHoldsMatcherImpl<Bare>(inner_matcher_));
  }

 private:
  const InnerMatcher inner_matcher_;
};

}  // namespace internal_status

// Matches an OK absl::Status or absl::StatusOr<T>.
inline ::testing::PolymorphicMatcher<internal_status::IsOkMatcherImpl> IsOk() {
  return ::testing::MakePolymorphicMatcher(internal_status::IsOkMatcherImpl());
}

// Matches an absl::Status or absl::StatusOr<T> whose code matches
// `code_matcher` (an absl::StatusCode or a matcher of one) and whose message
// matches `message_matcher` (a string, compared for equality, or a matcher of
// std::string such as ::testing::HasSubstr("...")).
template <typename CodeMatcher, typename MessageMatcher>
::testing::PolymorphicMatcher<internal_status::StatusIsMatcherImpl> StatusIs(
    CodeMatcher&& code_matcher, MessageMatcher&& message_matcher) {
  return ::testing::MakePolymorphicMatcher(internal_status::StatusIsMatcherImpl(
      internal_status::StatusIsMatcherCommonImpl(
          ::testing::MatcherCast<absl::StatusCode>(
              std::forward<CodeMatcher>(code_matcher)),
          ::testing::MatcherCast<const std::string&>(
              std::forward<MessageMatcher>(message_matcher)))));
}

// Matches an OK absl::StatusOr<T> whose value matches `inner_matcher` (a
// value, compared for equality, or a matcher of T).
template <typename InnerMatcher>
internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(
    InnerMatcher&& inner_matcher) {
  return internal_status::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner_matcher));
}

}  // namespace cep::testing
