#pragma once
// The world a command runs in: streams, clock, prompt, environment, identity
// and global options. main() builds the real one; tests build their own.

#include "pitool/core/clock.hpp"
#include "pitool/util/result.hpp"
#include "pitool/util/secret.hpp"

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <vector>
#include <string>
#include <string_view>

namespace pitool::http {
class Client;
struct ClientOptions;
} // namespace pitool::http

namespace pitool::cli {

struct Config;

/// Reads a line from the user without echo. The real one uses /dev/tty.
class Prompt {
public:
    virtual ~Prompt() = default;
    /// Whether a terminal is there to ask.
    [[nodiscard]] virtual bool available() const = 0;
    /// Asks `question` and returns the answer (secret) without its newline.
    /// Errc::usage when no terminal is available.
    [[nodiscard]] virtual Result<Secret> ask_secret(std::string_view question) = 0;
    /// Whether standard input is a terminal: someone is there to read
    /// instructions (create's and rotate's steps), not a pipe or CI.
    [[nodiscard]] virtual bool stdin_is_terminal() const { return false; }
};

/// Environment lookup (so tests need not touch the process environment).
class Environment {
public:
    virtual ~Environment() = default;
    /// The variable's value or nullptr. May point at secret text (PITOOL_PASSPHRASE):
    /// copy it into a Secret, never into a std::string.
    [[nodiscard]] virtual const char* get(const char* name) const = 0;
};

struct GlobalOptions {
    std::string vault;           ///< --vault
    std::string passphrase_file; ///< --passphrase-file
    std::string identity_file;   ///< --identity
    std::string cacert;          ///< --cacert
    std::string config;          ///< --config
    bool no_config = false;      ///< --no-config
    bool json = false;
    bool quiet = false;
    int verbose = 0;
};

struct Context {
    std::ostream& out; ///< results only
    std::ostream& err; ///< diagnostics
    std::istream& in;  ///< token input for --token-stdin / --code-stdin
    const core::Clock& clock;
    Prompt& prompt;
    const Environment& env;
    std::string actor; ///< user@host, recorded in history events
    GlobalOptions opts;
    /// Set once a JSON result document has been written to `out`.
    bool json_written = false;
    /// Makes the HTTP client; only network commands call it. Empty: the
    /// libcurl client of the network module (cli/net_loader.hpp).
    std::function<std::unique_ptr<http::Client>(const http::ClientOptions&)> http_factory;
    /// exec's words after `--` (the command), taken out of argv before
    /// parsing; empty optional when there was no `--`.
    std::optional<std::vector<std::string>> after_separator;
    /// The config file as read before the command ran (cli/config.hpp);
    /// null when none was read (tests, internal commands).
    std::shared_ptr<const Config> config{};
};

} // namespace pitool::cli
