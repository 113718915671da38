#pragma once
// The sandbox core: one object holding the simulated providers' state and
// answering transport-independent requests. The HTTP server (server.cpp),
// tests and fuzzers all drive it through Sandbox::handle().

#include "sandbox/state.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pitool::sandbox {

/// An HTTP request as the core sees it.
struct Request {
    std::string method;                            ///< upper case, e.g. "GET"
    std::string path;                              ///< without the query string
    std::multimap<std::string, std::string> query; ///< decoded query parameters
    std::map<std::string, std::string> headers;    ///< names lower-cased
    std::string body;

    [[nodiscard]] const std::string* header(const std::string& lower_name) const;
    [[nodiscard]] std::string query_value(const std::string& name) const;
};

/// What the transport should do.
struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::int64_t delay_ms = 0;    ///< wait this long before answering
    bool drop_connection = false; ///< close the connection without answering
};

/// A misbehaviour queued through POST /_sandbox/faults.
struct Fault {
    std::string id;
    std::string kind;        ///< rate_limit | status | delay | malformed | redirect | close
    std::string path_prefix; ///< empty: any provider path
    std::int64_t remaining = 1; ///< -1: every matching request until the faults are cleared
    int status = 500;
    std::int64_t retry_after_s = 1;
    std::int64_t delay_ms = 0;
    std::string location; ///< redirect target; empty: same path on the other loopback name
    std::string body;     ///< malformed body; empty: a truncated JSON object
    bool after_handling = false;
};

/// One provider API request as recorded for GET /_sandbox/requests. Holds no secrets.
struct LogEntry {
    std::int64_t seq = 0;
    Millis at = 0;
    std::string api, method, path;
    int status = 0;
    bool authorization = false;
    std::optional<std::string> version, grant_type, fault;
};

/// The authenticated caller of a LeadConnector API call.
struct Principal {
    std::string kind; ///< "pit" | "oauth"
    bool company_level = false;
    std::string location_id, company_id, client_id, user_id;
    std::vector<std::string> scopes;
};

class Sandbox {
public:
    /// `state_file` (may be empty) is loaded by load() and rewritten after
    /// every request that may have changed state.
    explicit Sandbox(Config config = {}, std::string state_file = {});

    /// Loads the state file if it exists. Returns false and sets `error` if
    /// it exists but cannot be read.
    [[nodiscard]] bool load(std::string& error);

    /// The origin this sandbox is reachable at ("http://127.0.0.1:PORT"); used
    /// to build the default target of redirect faults.
    void set_origin(std::string origin);

    /// Answers one request. Thread-safe; never throws for any input.
    [[nodiscard]] Response handle(const Request& req);

private:
    // sandbox.cpp: clock, dispatch, faults, log, rate limits, persistence
    [[nodiscard]] Millis now() const;
    std::string next_id(const std::string& prefix);
    Response dispatch(const Request& req, LogEntry& entry);
    Fault* take_fault(const std::string& path);
    Response fault_response(const Fault& f, const Request& req, bool hint) const;
    struct RateInfo {
        bool limited = false;
        std::int64_t retry_after_s = 0;
        std::vector<std::pair<std::string, std::string>> headers;
    };
    RateInfo rate_hit(const Request& req);
    void save_state();

    // leadconnector.cpp
    Response lc_handle(const Request& req);
    Response lc_oauth_token(const Request& req);
    Response lc_location_token(const Request& req, const Principal& p);
    Response lc_get_location(const Principal& p, const std::string& id);
    Response lc_create_contact(const Request& req, const Principal& p);
    Response lc_get_company(const Principal& p, const std::string& id);
    std::optional<Principal> lc_authenticate(const Request& req);
    nlohmann::json lc_issue(const Grant& g, bool with_refresh);
    Location& ensure_location(const std::string& id, const std::string& company_id);
    Company& ensure_company(const std::string& id);

    // hint.cpp
    Response hint_handle(const Request& req);
    HintApiKey* hint_practice_key(const std::string& token, HintIntegration** owner);
    HintPartner* hint_partner_by_key(const std::string& key);
    HintApiKey make_hint_key(const std::string& description);

    // admin.cpp
    Response admin_handle(const Request& req, bool& mutated);
    Response admin_pits(const Request& req, const std::vector<std::string>& seg, bool& mutated);
    Response admin_oauth(const Request& req, const std::vector<std::string>& seg, bool& mutated);
    Response admin_hint(const Request& req, const std::vector<std::string>& seg, bool& mutated);
    Response admin_tokens(const Request& req, const std::vector<std::string>& seg, bool& mutated);
    nlohmann::json pit_view(const Pit& pit) const;
    nlohmann::json clock_view() const;
    nlohmann::json integration_view(const HintIntegration& in) const;

    mutable std::mutex m_mutex;
    State m_state;
    std::string m_state_file;
    std::string m_origin;
    std::deque<Fault> m_faults;
    std::deque<LogEntry> m_log;
    std::int64_t m_log_seq = 0;
    std::map<std::string, std::int64_t> m_requests_by_path;

    struct RateBucket {
        Millis window_start = 0, day_start = 0;
        std::int64_t count = 0, day_count = 0;
    };
    std::map<std::string, RateBucket> m_rate; ///< keyed by the presented credential
};

// Helpers shared by the handler files.
namespace detail {

std::vector<std::string> split_path(const std::string& path);
Response json_response(int status, const nlohmann::json& body);
/// LeadConnector error body: {"statusCode", "message", "error"}.
Response lc_error(int status, const std::string& message);
/// LeadConnector validation error: 422 with `message` as an array.
Response lc_validation(const std::vector<std::string>& messages);
/// OAuth token endpoint error: {"statusCode", "error", "error_description", "message"}.
Response oauth_error(int status, const std::string& error, const std::string& message);
/// Hint error body: {"status", "message"}.
Response hint_error(int status, const std::string& message);
/// Admin error body: {"error": message}.
Response admin_error(int status, const std::string& message);
std::string reason_phrase(int status);
std::string iso8601(Millis t);
nlohmann::json time_or_null(Millis t);
std::map<std::string, std::string> parse_form(const std::string& body);
/// The credential after "Bearer " (case-insensitive scheme), or empty.
std::string bearer_token(const Request& req);
bool has_scope(const std::vector<std::string>& scopes, const std::string& scope);
std::string join(const std::vector<std::string>& parts, const std::string& sep);
bool starts_with(const std::string& s, const std::string& prefix);

} // namespace detail
} // namespace pitool::sandbox
