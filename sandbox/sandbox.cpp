#include "sandbox/sandbox.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <sstream>

namespace pitool::sandbox {

using nlohmann::json;

// ---------------------------------------------------------------- helpers

namespace detail {

std::vector<std::string> split_path(const std::string& path)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : path) {
        if (c == '/') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

Response json_response(int status, const json& body)
{
    Response r;
    r.status = status;
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

std::string reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

Response lc_error(int status, const std::string& message)
{
    return json_response(status, {{"statusCode", status}, {"message", message}, {"error", reason_phrase(status)}});
}

Response lc_validation(const std::vector<std::string>& messages)
{
    return json_response(422, {{"statusCode", 422}, {"message", messages}, {"error", reason_phrase(422)}});
}

Response oauth_error(int status, const std::string& error, const std::string& message)
{
    return json_response(
        status, {{"statusCode", status}, {"error", error}, {"error_description", message}, {"message", message}});
}

Response hint_error(int status, const std::string& message)
{
    return json_response(status, {{"status", status}, {"message", message}});
}

Response admin_error(int status, const std::string& message)
{
    return json_response(status, {{"error", message}});
}

std::string iso8601(Millis t)
{
    std::time_t secs = static_cast<std::time_t>(t / 1000);
    Millis ms = t % 1000;
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[80];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
    return out;
}

json time_or_null(Millis t)
{
    return t == 0 ? json(nullptr) : json(iso8601(t));
}

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string url_decode(const std::string& s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

} // namespace

std::map<std::string, std::string> parse_form(const std::string& body)
{
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    while (pos <= body.size()) {
        std::size_t amp = body.find('&', pos);
        if (amp == std::string::npos) amp = body.size();
        std::string pair = body.substr(pos, amp - pos);
        if (!pair.empty()) {
            std::size_t eq = pair.find('=');
            std::string key = url_decode(pair.substr(0, eq));
            std::string value = eq == std::string::npos ? std::string() : url_decode(pair.substr(eq + 1));
            out.emplace(std::move(key), std::move(value)); // first occurrence wins
        }
        pos = amp + 1;
    }
    return out;
}

std::string bearer_token(const Request& req)
{
    const std::string* h = req.header("authorization");
    if (h == nullptr || h->size() < 7) return {};
    std::string scheme = h->substr(0, 7);
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "bearer ") return {};
    std::string token = h->substr(7);
    while (!token.empty() && token.front() == ' ') token.erase(token.begin());
    while (!token.empty() && token.back() == ' ') token.pop_back();
    return token;
}

bool has_scope(const std::vector<std::string>& scopes, const std::string& scope)
{
    for (const auto& s : scopes)
        if (s == scope) return true;
    return false;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep)
{
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += sep;
        out += p;
    }
    return out;
}

bool starts_with(const std::string& s, const std::string& prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

} // namespace detail

using namespace detail;

const std::string* Request::header(const std::string& lower_name) const
{
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
}

std::string Request::query_value(const std::string& name) const
{
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
}

// ---------------------------------------------------------------- core

Sandbox::Sandbox(Config config, std::string state_file) : m_state_file(std::move(state_file))
{
    m_state.config = config;
}

bool Sandbox::load(std::string& error)
{
    std::lock_guard lock(m_mutex);
    if (m_state_file.empty()) return true;
    std::ifstream in(m_state_file, std::ios::binary);
    if (!in) return true; // first run: nothing to load
    try {
        State loaded = json::parse(in).get<State>();
        m_state = std::move(loaded);
    } catch (const std::exception& e) {
        error = m_state_file + ": " + e.what();
        return false;
    }
    return true;
}

void Sandbox::set_origin(std::string origin)
{
    std::lock_guard lock(m_mutex);
    m_origin = std::move(origin);
}

Millis Sandbox::now() const
{
    auto sys =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    return sys.count() + m_state.clock_offset_ms;
}

std::string Sandbox::next_id(const std::string& prefix)
{
    return prefix + std::to_string(m_state.next_serial++);
}

void Sandbox::save_state()
{
    if (m_state_file.empty()) return;
    const std::string tmp = m_state_file + ".tmp";
    const std::string data = json(m_state).dump(2);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::fprintf(stderr, "pitool-sandbox: cannot write state file %s\n", tmp.c_str());
        return;
    }
    std::size_t off = 0;
    bool ok = true;
    while (off < data.size()) {
        ssize_t w = ::write(fd, data.data() + off, data.size() - off);
        if (w <= 0) {
            ok = false;
            break;
        }
        off += static_cast<std::size_t>(w);
    }
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), m_state_file.c_str()) != 0) {
        std::fprintf(stderr, "pitool-sandbox: cannot write state file %s\n", m_state_file.c_str());
        ::unlink(tmp.c_str());
    }
}

Response Sandbox::handle(const Request& req)
{
    std::lock_guard lock(m_mutex);
    LogEntry entry;
    Response res;
    const bool admin = req.path == "/_sandbox" || starts_with(req.path, "/_sandbox/");
    try {
        if (admin) {
            bool mutated = req.method != "GET";
            res = admin_handle(req, mutated);
            if (mutated) save_state();
            return res;
        }
        res = dispatch(req, entry);
    } catch (const std::exception& e) {
        // Only malformed input reaches here (e.g. a JSON value of the wrong type).
        if (admin) return admin_error(400, std::string("bad request: ") + e.what());
        res = lc_error(500, "Internal server error");
    }
    entry.status = res.drop_connection ? 0 : res.status;
    entry.seq = ++m_log_seq;
    m_log.push_back(std::move(entry));
    while (m_log.size() > 1000) m_log.pop_front();
    // Bounded so a stream of distinct junk paths cannot grow memory without limit.
    if (m_requests_by_path.size() < 10'000 || m_requests_by_path.count(req.path) != 0) ++m_requests_by_path[req.path];
    if (req.method != "GET") save_state();
    return res;
}

Response Sandbox::dispatch(const Request& req, LogEntry& entry)
{
    const bool hint = req.path == "/api" || starts_with(req.path, "/api/");
    entry.at = now();
    entry.api = hint ? "hint" : "leadconnector";
    entry.method = req.method;
    entry.path = req.path;
    entry.authorization = req.header("authorization") != nullptr;
    if (const std::string* v = req.header("version")) entry.version = *v;
    if (!hint && req.path == "/oauth/token") {
        auto form = parse_form(req.body);
        if (auto it = form.find("grant_type"); it != form.end()) entry.grant_type = it->second;
    } else if (hint && req.path == "/api/oauth/tokens") {
        auto body = json::parse(req.body, nullptr, false);
        if (body.is_object() && body.contains("grant_type") && body["grant_type"].is_string())
            entry.grant_type = body["grant_type"].get<std::string>();
    }

    std::optional<Fault> fault;
    if (Fault* f = take_fault(req.path)) {
        fault = *f;
        if (f->remaining != -1 && --f->remaining <= 0) {
            for (auto it = m_faults.begin(); it != m_faults.end(); ++it)
                if (it->id == fault->id) {
                    m_faults.erase(it);
                    break;
                }
        }
        entry.fault = fault->kind;
    }

    RateInfo rate;
    if (!hint) rate = rate_hit(req);

    Response res;
    const bool fault_first = fault && fault->kind != "delay" && !fault->after_handling;
    if (fault_first) {
        res = fault_response(*fault, req, hint);
    } else if (rate.limited) {
        res = lc_error(429, "Too Many Requests");
        res.headers.emplace_back("Retry-After", std::to_string(rate.retry_after_s));
    } else {
        res = hint ? hint_handle(req) : lc_handle(req);
        if (fault && fault->kind != "delay") res = fault_response(*fault, req, hint);
    }
    if (fault && fault->kind == "delay") res.delay_ms = fault->delay_ms;
    if (!hint && !res.drop_connection)
        for (auto& h : rate.headers) res.headers.push_back(h);
    return res;
}

Fault* Sandbox::take_fault(const std::string& path)
{
    for (auto& f : m_faults)
        if ((f.remaining > 0 || f.remaining == -1) && starts_with(path, f.path_prefix)) return &f;
    return nullptr;
}

Response Sandbox::fault_response(const Fault& f, const Request& req, bool hint) const
{
    auto error = [&](int status, const std::string& message) {
        return hint ? hint_error(status, message) : lc_error(status, message);
    };
    Response res;
    if (f.kind == "rate_limit") {
        res = error(429, hint ? "Too many requests" : "Too Many Requests");
        res.headers.emplace_back("Retry-After", std::to_string(f.retry_after_s));
    } else if (f.kind == "status") {
        res = error(f.status, reason_phrase(f.status));
        if (f.retry_after_s > 0 && (f.status == 429 || f.status == 503))
            res.headers.emplace_back("Retry-After", std::to_string(f.retry_after_s));
    } else if (f.kind == "malformed") {
        res.status = f.status;
        res.body = f.body.empty() ? std::string(R"({"access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6)") : f.body;
    } else if (f.kind == "redirect") {
        std::string target = f.location;
        if (target.empty()) {
            std::string origin = m_origin;
            if (auto p = origin.find("127.0.0.1"); p != std::string::npos)
                origin.replace(p, 9, "localhost");
            else if (auto q = origin.find("localhost"); q != std::string::npos)
                origin.replace(q, 9, "127.0.0.1");
            else if (auto r = origin.find("[::1]"); r != std::string::npos)
                origin.replace(r, 5, "localhost");
            target = origin + req.path;
        }
        res.status = f.status;
        res.headers.emplace_back("Location", target);
        res.content_type = "text/plain";
        res.body = "Found. Redirecting to " + target;
    } else if (f.kind == "close") {
        res.drop_connection = true;
    }
    return res;
}

Sandbox::RateInfo Sandbox::rate_hit(const Request& req)
{
    std::string key = bearer_token(req);
    if (key.empty() && req.path == "/oauth/token") {
        auto form = parse_form(req.body);
        key = "client:" + form["client_id"];
    }
    if (key.empty()) key = "anonymous";
    const Config& c = m_state.config;
    const Millis t = now();
    RateBucket& b = m_rate[key];
    if (b.window_start == 0 || t - b.window_start >= c.burst_interval_ms || t < b.window_start) {
        b.window_start = t;
        b.count = 0;
    }
    if (b.day_start == 0 || t - b.day_start >= 86'400'000 || t < b.day_start) {
        b.day_start = t;
        b.day_count = 0;
    }
    RateInfo info;
    if (b.count >= c.burst_max || b.day_count >= c.daily_max) {
        info.limited = true;
        Millis wait = b.count >= c.burst_max ? b.window_start + c.burst_interval_ms - t : b.day_start + 86'400'000 - t;
        info.retry_after_s = std::max<Millis>(1, (wait + 999) / 1000);
    } else {
        ++b.count;
        ++b.day_count;
    }
    info.headers = {
        {"X-RateLimit-Max", std::to_string(c.burst_max)},
        {"X-RateLimit-Remaining", std::to_string(std::max<std::int64_t>(0, c.burst_max - b.count))},
        {"X-RateLimit-Interval-Milliseconds", std::to_string(c.burst_interval_ms)},
        {"X-RateLimit-Limit-Daily", std::to_string(c.daily_max)},
        {"X-RateLimit-Daily-Remaining", std::to_string(std::max<std::int64_t>(0, c.daily_max - b.day_count))},
    };
    return info;
}

} // namespace pitool::sandbox
