#include "support/json_schema.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>

namespace pitool::test {
namespace {

const std::filesystem::path k_schema_dir = std::filesystem::path(PITOOL_SOURCE_DIR) / "docs" / "schema";

/// The one validator process of this test process: started on first use,
/// restarted if it died (PR_SET_PDEATHSIG ends it with the thread that
/// started it), asked one document at a time, stopped before the leak check
/// at the end of the run.
class SchemaValidator {
public:
    static SchemaValidator& instance()
    {
        static SchemaValidator v;
        return v;
    }

    std::string check(const std::string& schema, const nlohmann::json& document)
    {
        std::lock_guard lock(m_mutex);
        const std::string request = nlohmann::json{{"schema", schema}, {"document", document}}.dump(
                                        -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                                    "\n";
        std::string answer;
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (!m_child.running() && !start(answer)) continue;
            if (ask(request, answer)) return answer == "ok" ? std::string() : answer;
            stop_locked();
        }
        return "the schema validator did not answer: " + answer;
    }

    void stop()
    {
        std::lock_guard lock(m_mutex);
        stop_locked();
    }

private:
    bool start(std::string& why)
    {
        int to_child[2];
        int from_child[2];
        if (::pipe2(to_child, O_CLOEXEC) != 0) {
            why = "pipe failed";
            return false;
        }
        if (::pipe2(from_child, O_CLOEXEC) != 0) {
            ::close(to_child[0]);
            ::close(to_child[1]);
            why = "pipe failed";
            return false;
        }
        // A validator that died must fail a write, not kill the tests.
        std::signal(SIGPIPE, SIG_IGN);
        Child::Spec spec;
        // Debian's python3 with python3-jsonschema (scripts/deps.sh), never
        // one found on PATH (a pyenv python lacks the module).
        spec.argv = {"/usr/bin/python3", std::string(PITOOL_SOURCE_DIR) + "/tests/support/json_schema_validator.py",
                     k_schema_dir.string()};
        spec.env = {{"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}, {"PYTHONDONTWRITEBYTECODE", "1"}};
        spec.stdio = {to_child[0], from_child[1], 2};
        try {
            m_child = Child::start(spec);
        } catch (const std::exception& e) {
            why = e.what();
        }
        ::close(to_child[0]);
        ::close(from_child[1]);
        m_to = to_child[1];
        m_from = from_child[0];
        m_pending.clear();
        if (!m_child.running()) {
            stop_locked();
            return false;
        }
        return true;
    }

    /// Sends one request and reads one answer line (at most 60 s).
    bool ask(const std::string& request, std::string& answer)
    {
        for (std::size_t done = 0; done < request.size();) {
            const ssize_t n = ::write(m_to, request.data() + done, request.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                answer = "write failed";
                return false;
            }
            done += static_cast<std::size_t>(n);
        }
        for (;;) {
            if (const auto nl = m_pending.find('\n'); nl != std::string::npos) {
                answer = m_pending.substr(0, nl);
                m_pending.erase(0, nl + 1);
                return true;
            }
            pollfd p{m_from, POLLIN, 0};
            if (::poll(&p, 1, 60'000) <= 0) {
                answer = "no answer within 60 s";
                return false;
            }
            char buf[4096];
            const ssize_t n = ::read(m_from, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                answer = "it exited (see stderr)";
                return false;
            }
            m_pending.append(buf, static_cast<std::size_t>(n));
        }
    }

    void stop_locked()
    {
        if (m_to >= 0) ::close(m_to); // EOF: the validator ends
        m_to = -1;
        if (m_child.running() && !m_child.wait_for(std::chrono::seconds(5))) m_child.kill();
        if (m_from >= 0) ::close(m_from);
        m_from = -1;
        m_pending.clear();
    }

    std::mutex m_mutex;
    Child m_child;
    int m_to = -1;
    int m_from = -1;
    std::string m_pending;
};

/// Stops the validator before the environments' teardown, where the leak
/// check fails the run for every child still running.
class StopSchemaValidator : public ::testing::EmptyTestEventListener {
    void OnEnvironmentsTearDownStart(const ::testing::UnitTest&) override { SchemaValidator::instance().stop(); }
};

[[maybe_unused]] const bool k_stop_validator_registered = [] {
    ::testing::UnitTest::GetInstance()->listeners().Append(new StopSchemaValidator);
    return true;
}();

/// Global options that take a value (as src/cli/app.cpp's first_word knows them).
bool global_with_value(std::string_view a)
{
    return a == "--vault" || a == "--passphrase-file" || a == "--identity" || a == "--cacert";
}

bool global_flag(std::string_view a)
{
    if (a == "--json" || a == "-q" || a == "--quiet" || a == "--verbose") return true;
    if (a.size() >= 2 && a[0] == '-' && a.find_first_not_of('v', 1) == std::string_view::npos) return true;
    for (std::string_view opt : {"--vault=", "--passphrase-file=", "--identity=", "--cacert="})
        if (a.starts_with(opt)) return true;
    return false;
}

} // namespace

const nlohmann::json& schema_index()
{
    static const nlohmann::json k_index = [] {
        std::ifstream in(k_schema_dir / "index.json");
        return nlohmann::json::parse(in);
    }();
    return k_index;
}

std::string schema_problem(const std::string& schema, const nlohmann::json& document)
{
    return SchemaValidator::instance().check(schema, document);
}

std::optional<std::pair<std::string, nlohmann::json>> json_output_of(const std::vector<std::string>& args,
                                                                     const RunResult& r)
{
    // Only pitool's own exits (0 to 10): a run killed on purpose may have
    // printed half a document.
    if (r.exit_code < 0 || r.exit_code > 10 || r.out.empty()) return std::nullopt;
    std::string command;
    bool json = false;
    bool format_json = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") break; // exec's command and its arguments
        if (a == "--help" || a == "-h" || a == "--help-all" || a == "--version") return std::nullopt;
        if (a == "--json") json = true;
        if ((a == "--format" && i + 1 < args.size() && args[i + 1] == "json") || a == "--format=json")
            format_json = true;
        if (!command.empty() || global_flag(a)) continue;
        if (global_with_value(a)) {
            ++i;
            continue;
        }
        command = a;
    }
    if (command == "audit") json = json || format_json;
    if (!json || command == "help") return std::nullopt;

    if (r.exit_code != 0) {
        // The error object is the last line (after a result, none is printed).
        std::string last = r.out.substr(0, r.out.size() - 1);
        last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
        const auto doc = nlohmann::json::parse(last, nullptr, false);
        if (doc.is_object() && doc.contains("error"))
            return std::pair{schema_index().at("error").get<std::string>(), doc};
    }
    const auto& commands = schema_index().at("commands");
    if (!commands.contains(command)) return std::nullopt; // an unknown command: only its error object is checked
    const auto& schema = commands.at(command);
    if (schema.is_null()) return std::nullopt;
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    if (doc.is_discarded()) doc = "stdout is not one JSON document: " + r.out.substr(0, 200);
    return std::pair{schema.get<std::string>(), std::move(doc)};
}

void expect_json_output_follows_schema(const std::vector<std::string>& args, const RunResult& r)
{
    const auto found = json_output_of(args, r);
    if (!found) return;
    const std::string problem = schema_problem(found->first, found->second);
    if (problem.empty()) return;
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    ADD_FAILURE() << "pitool" << cmd << ": its JSON output does not follow docs/schema/" << found->first << ": "
                  << problem << "\nexit " << r.exit_code << "\n--- stdout ---\n"
                  << r.out.substr(0, 4000) << "--- stderr ---\n"
                  << r.err.substr(0, 4000);
}

} // namespace pitool::test
