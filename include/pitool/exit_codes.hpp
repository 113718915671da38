#pragma once
/// pitool's exit codes: a public contract. Scripts depend on these numbers;
/// never renumber one, only add new ones at the end.

#include "pitool/util/result.hpp"

namespace pitool {

enum class ExitCode : int {
    ok = 0,               ///< success
    internal = 1,         ///< internal error (a bug, an unexpected system failure)
    usage = 2,            ///< usage error or invalid input
    not_found = 3,        ///< integration or vault not found
    conflict = 4,         ///< state conflict (name exists, no open window, window already open)
    wrong_passphrase = 5, ///< wrong passphrase
    damaged = 6,          ///< vault damaged, not a vault, or unsupported version
    rejected = 7,         ///< the provider rejected a credential or code
    unavailable = 8,      ///< network or provider unavailable
    findings = 9,         ///< audit: at least one token due or expired
    io = 10,              ///< local I/O error: permissions, lock timeout, disk
};

/// The exit code for an error category.
[[nodiscard]] constexpr ExitCode exit_code_for(Errc e) noexcept
{
    switch (e) {
    case Errc::internal:
        return ExitCode::internal;
    case Errc::usage:
        return ExitCode::usage;
    case Errc::not_found:
        return ExitCode::not_found;
    case Errc::conflict:
        return ExitCode::conflict;
    case Errc::wrong_passphrase:
        return ExitCode::wrong_passphrase;
    case Errc::damaged:
        return ExitCode::damaged;
    case Errc::rejected:
        return ExitCode::rejected;
    case Errc::unavailable:
        return ExitCode::unavailable;
    case Errc::findings:
        return ExitCode::findings;
    case Errc::io:
        return ExitCode::io;
    }
    return ExitCode::internal;
}

} // namespace pitool
