// Internal: the workloads of src/workload/fraud_workloads.cpp, one per
// pattern file of patterns/, for the table of workload.cpp: their option
// checks, factories and plain-words texts (lines of at most 76 characters;
// DescribeWorkload indents them by two).
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/status.h"

#include "cep/workload.hpp"

namespace cep::workload_internal {

absl::Status CheckVelocity(const WorkloadOptions& options);
absl::Status CheckDeclinesThenCharge(const WorkloadOptions& options);
absl::Status CheckImpossibleTravel(const WorkloadOptions& options);
absl::Status CheckAccountTakeover(const WorkloadOptions& options);
absl::Status CheckAbandonedChallenge(const WorkloadOptions& options);

std::unique_ptr<WorkloadGenerator> MakeVelocity(const WorkloadOptions& options);
std::unique_ptr<WorkloadGenerator> MakeDeclinesThenCharge(
    const WorkloadOptions& options);
std::unique_ptr<WorkloadGenerator> MakeImpossibleTravel(
    const WorkloadOptions& options);
std::unique_ptr<WorkloadGenerator> MakeAccountTakeover(
    const WorkloadOptions& options);
std::unique_ptr<WorkloadGenerator> MakeAbandonedChallenge(
    const WorkloadOptions& options);

inline constexpr std::string_view kVelocityLayout =
    "One event type, Auth, with card-testing's fields.\n"
    "card: the key. \"4000-0000-DDDD-DDDD\" for the `keys` ordinary cards\n"
    "  (default 10000, at least 1000), \"4000-GGGG-9DDD-DDDD\" for planted\n"
    "  bursts, one fresh card each.\n"
    "Ordinary events: a uniform card, or (one in ten) the card of an\n"
    "  event of the last minute; but a card never gets a sixth event less\n"
    "  than a minute after the fifth before it (the next card with room\n"
    "  takes it), so five in a minute happen, six never. amount 5.00 to\n"
    "  500.00, merchant one of eight, result approved (94%), declined (5%)\n"
    "  or refund (1%).\n"
    "A planted burst (chance --fraud-rate per ordinary event): six\n"
    "  authorisations 2 to 11 s apart (at most 55 s first to last) at one\n"
    "  merchant, approved or (one in three) declined.\n"
    "ts: the time field, epoch milliseconds from 1764547200000,\n"
    "  non-decreasing, ordinary events 0 to 172 ms apart.";

inline constexpr std::string_view kVelocityPatterns =
    "patterns/velocity.cep: six authorisations of a card (the key), first\n"
    "to last less than a minute apart, skipping past a match's last event.\n"
    "It finds exactly the planted bursts, one match each; ordinary cards\n"
    "never make six in a minute.";

inline constexpr std::string_view kDeclinesLayout =
    "One event type, Auth, with card-testing's fields.\n"
    "card: the key. \"4000-0000-DDDD-DDDD\" for the `keys` ordinary cards\n"
    "  (default 10000, drawn uniformly), \"4000-GGGG-9DDD-DDDD\" for planted\n"
    "  frauds, one fresh card each.\n"
    "Ordinary events: 1% are approved purchases of 1000.00 to 3000.00,\n"
    "  except on a card with three or more declines in the last 10\n"
    "  minutes, where they are 900.00 to 999.99; the others are 5.00 to\n"
    "  500.00, approved (94%), declined (5%) or refund (1%). Three declines\n"
    "  in ten are retried 1 to 3 times, 5 to 60 s apart, declined again.\n"
    "A planted fraud (chance --fraud-rate per ordinary event): three to\n"
    "  five declines 5 to 60 s apart, then 30 to 240 s later an approved\n"
    "  charge of the same amount, 1000.00 to 5000.00, at one merchant.\n"
    "ts: the time field, epoch milliseconds from 1764547200000,\n"
    "  non-decreasing, ordinary events 0 to 172 ms apart.";

inline constexpr std::string_view kDeclinesPatterns =
    "patterns/declines_then_charge.cep: per card (the key), three or more\n"
    "declined authorisations, then an approved one of 1000 or more, less\n"
    "than 10 minutes from the first decline, skipping past a match's last\n"
    "event. It finds exactly the planted frauds, one match each; no\n"
    "ordinary card has an approved 1000 or more after three declines in\n"
    "10 minutes.";

inline constexpr std::string_view kTravelLayout =
    "One event type, Login {user, city, lat, lon, ts}.\n"
    "user: the key. \"user-DDDDDDDD\" for the `keys` ordinary users\n"
    "  (default 10000, at most 1000000, drawn uniformly), \"user-xDDDDDDDD\"\n"
    "  for planted frauds, one fresh user each.\n"
    "city, lat, lon: one of 16 cities (New York, Toronto, Chicago, Los\n"
    "  Angeles, London, Paris, Amsterdam, Frankfurt, Berlin, Warsaw,\n"
    "  Madrid, Rome, Istanbul, Dubai, Singapore, Tokyo), degrees with four\n"
    "  places. An ordinary user starts at a home city; three logins in\n"
    "  twenty try another city (or home), and the user moves only if that\n"
    "  is at most 900 km/h from the last login, else stays.\n"
    "A planted fraud (chance --fraud-rate per ordinary event): one to\n"
    "  three logins from one city 1 to 10 minutes apart, then a login from\n"
    "  a city 1500 km or more away at 3600 km/h or faster.\n"
    "ts: the time field, epoch milliseconds from 1764547200000,\n"
    "  non-decreasing, ordinary events 0 to 1000 ms apart.";

inline constexpr std::string_view kTravelPatterns =
    "patterns/impossible_travel.cep: per user (the key), two consecutive\n"
    "logins whose great-circle distance (haversine, radius 6371 km) is\n"
    "more than 1000 km per hour between them; every such pair matches. It\n"
    "finds exactly the planted frauds, one match each.";

inline constexpr std::string_view kTakeoverLayout =
    "Four event types named by the \"type\" member: PasswordReset {account,\n"
    "  channel}, Login {account, device, new_device}, MfaCheck {account,\n"
    "  method}, Payout {account, amount, iban}, all with ts. Every line has\n"
    "  all nine fields (one column set for JSON and CSV); the members of\n"
    "  other types are empty strings, false or 0.00.\n"
    "account: the key. \"acct-DDDDDDDD\" for the `keys` ordinary accounts\n"
    "  (default 10000, at least 1000), \"acct-xDDDDDDDD\" for planted\n"
    "  takeovers, \"acct-dDDDDDDDD\" for planted thwarted ones.\n"
    "Ordinary events: Login 60% (3% from a new device), MfaCheck 12%,\n"
    "  Payout 23% (one in five 1000.00 to 5000.00, else 5.00 to 500.00),\n"
    "  PasswordReset 5%; every reset is followed 5 to 120 s later by an\n"
    "  MfaCheck of the account, its next event.\n"
    "A planted takeover (chance --fraud-rate per ordinary event): a reset,\n"
    "  1 to 50 minutes later a new-device login, 10 minutes to 12 hours\n"
    "  later a payout of 1000.00 to 10000.00. A thwarted one (the same\n"
    "  chance) has an MfaCheck between the login and the payout.\n"
    "ts: the time field, epoch milliseconds from 1764547200000,\n"
    "  non-decreasing, ordinary events 0 to 500 ms apart.";

inline constexpr std::string_view kTakeoverPatterns =
    "patterns/account_takeover.cep: per account (the key), a reset, no\n"
    "MfaCheck, a new-device login within an hour, no MfaCheck, a payout of\n"
    "1000 or more within 24 hours of the login. It finds exactly the\n"
    "planted takeovers, one match each: an ordinary reset is always\n"
    "cleared by its MfaCheck, a thwarted one by the check after the login.";

inline constexpr std::string_view kChallengeLayout =
    "Three event types named by the \"type\" member: RiskFlag {session,\n"
    "  score, reason}, ChallengeIssued {session, method}, ChallengePassed\n"
    "  {session, method}, all with ts. Every line has all six fields; the\n"
    "  members of other types are empty strings or 0.\n"
    "session: the key; every session is new: \"sess-DDDDDDDD\" ordinary,\n"
    "  \"sess-xDDDDDDDD\" planted. `keys` is not used.\n"
    "Each ordinary event is a RiskFlag of a new session, score 0 to 100.\n"
    "  Score 70 or more: 80% get a challenge 1 to 30 s later and pass it\n"
    "  5 to 200 s after that; 10% get no challenge; 10% get a challenge\n"
    "  only 320 to 600 s after the flag. Below 70: half are challenged, and\n"
    "  half of those pass.\n"
    "A planted abandoned challenge (chance --fraud-rate per ordinary\n"
    "  event): a flag of score 70 to 100, a challenge 1 to 30 s later, and\n"
    "  no pass, or (half of them) a pass 330 to 900 s after the flag.\n"
    "ts: the time field, epoch milliseconds from 1764547200000,\n"
    "  non-decreasing, ordinary events 0 to 400 ms apart.";

inline constexpr std::string_view kChallengePatterns =
    "patterns/abandoned_challenge.cep: per session (the key), a RiskFlag of\n"
    "score 70 or more, a ChallengeIssued, and no ChallengePassed, less\n"
    "than 5 minutes from the flag; the match comes when the window passes\n"
    "(or the input ends). It finds exactly the planted ones, one match\n"
    "each; flags with no challenge in the window come out as timeouts.";

}  // namespace cep::workload_internal
