#pragma once
/// Realistic synthetic vault contents for benchmarks and scale tests.
///
/// Everything is deterministic in (index, seed): the same call gives the same
/// integration, so a micro-benchmark and a whole-process run at the same size
/// see the same data. Tokens are fake (`pit-<uuid>`), never real credentials.

#include "pitool/core/model.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace pitool::bench {

struct GenOptions {
    std::uint64_t seed = 1;
    /// "Now" for created_at / issued_at / rotation windows. Default: a fixed
    /// instant (2026-11-28T00:00:00Z) so runs are reproducible.
    Timestamp now = Timestamp{Seconds{1795824000}};
    /// Share (0..100) of integrations with an open "rotate later" window.
    int rotating_percent = 5;
    /// Share (0..100) with a recorded last test call.
    int checked_percent = 50;
};

/// The name of integration `i`: "acme-location-000123" (the company part
/// varies; the number is `i`, zero-padded to 6 digits).
[[nodiscard]] std::string integration_name(std::size_t i);

/// Integration `i`: a LeadConnector PIT, location-level (about 1 in 10
/// agency-level), 3-6 scopes from the catalogue, a 20-character location id,
/// a ~40-character description, a `pit-<uuid>` token issued 0-120 days
/// before `now` (so audit finds ok, warn and due tokens), an open rotation
/// window for `rotating_percent` of them, a last check for `checked_percent`.
[[nodiscard]] core::Integration make_integration(std::size_t i, const GenOptions& o = {});

/// `n` integrations (indexes 0..n-1) and, when `with_history`, one "create"
/// event each (chained, as `pitool create` would record them).
[[nodiscard]] core::Payload make_payload(std::size_t n, const GenOptions& o = {}, bool with_history = true);

/// One line of `pitool import` input for `in` (no trailing newline): the
/// fields of `pitool show --json` (name, provider, kind, description, level,
/// account_id, scopes, base_url, created_at, ...) with "token" replaced by
/// the secret itself. The line holds a (fake) secret.
[[nodiscard]] std::string import_line(const core::Integration& in);

} // namespace pitool::bench
