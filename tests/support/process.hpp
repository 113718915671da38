#pragma once
// Test support: run a real binary with arguments, environment and stdin, and
// capture its exit code, stdout and stderr. Also RAII temporary directories.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pitool::test {

struct RunResult {
    int exit_code = -1; ///< exit status, or 128+signal when killed
    std::string out;
    std::string err;
};

struct RunOptions {
    std::string stdin_data;
    /// Variables set for the child on top of a minimal base environment
    /// (PATH, HOME, LANG=C). Nothing else from the test's environment leaks in.
    std::map<std::string, std::string> env;
    /// When set, stdin is closed (EOF) instead of fed stdin_data.
    bool close_stdin = false;
    /// Seconds before the child is killed with SIGKILL (reported as 137).
    int timeout_seconds = 60;
    std::optional<std::filesystem::path> cwd;
};

/// Runs `argv[0]` (a path) with `argv`; never uses a shell. No controlling
/// terminal is inherited (setsid), so prompts must fail rather than hang.
RunResult run(const std::vector<std::string>& argv, const RunOptions& opts = {});

/// A fresh directory under $TMPDIR removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
    std::filesystem::path m_path;
};

/// Reads a whole file (binary).
std::string read_file(const std::filesystem::path& p);
/// Writes a whole file (binary), mode 0600.
void write_file(const std::filesystem::path& p, const std::string& data);

/// A background child process (e.g. pitool-sandbox) that is killed on destruction.
class Background {
public:
    /// Starts argv; reads the first line of its stdout (e.g. the base URL).
    explicit Background(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    [[nodiscard]] const std::string& first_line() const { return m_first_line; }
    [[nodiscard]] int pid() const { return m_pid; }

private:
    int m_pid = -1;
    int m_stdout_fd = -1;
    std::string m_first_line;
};

} // namespace pitool::test
