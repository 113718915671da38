#pragma once

#include "cli/context.hpp"

namespace pitool::cli {

/// Prompts on the controlling terminal (/dev/tty) with echo off.
class TtyPrompt final : public Prompt {
public:
    [[nodiscard]] bool available() const override;
    [[nodiscard]] Result<Secret> ask_secret(std::string_view question) override;
    [[nodiscard]] bool stdin_is_terminal() const override;
};

/// The process environment (getenv).
class ProcessEnvironment final : public Environment {
public:
    [[nodiscard]] const char* get(const char* name) const override;
};

/// "user@host" of the current process.
[[nodiscard]] std::string current_actor();

} // namespace pitool::cli
