// Fuzzes the sandbox's request handling (Sandbox::handle, no sockets).
//
// Input: up to 8 requests separated by the byte 0x1E. Each request is
//   METHOD SP PATH[?QUERY] LF  (Name: value LF)*  LF  BODY
// "${key}" anywhere in a request is replaced by the last string value seen
// under that key in an earlier JSON answer (token, code, client_secret, id...),
// so a seed can create a PIT through the admin API and then call the
// provider API with it.
//
// Each input runs on a fresh sandbox whose state file lives in a private
// directory (tmpfs when available): every mutating request also serialises
// the state, and at the end a second sandbox must load it back.

#include "fuzz_util.hpp"

#include "sandbox/sandbox.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

using namespace pitool;
using nlohmann::json;
using pitool::fuzz::require;

namespace {

constexpr std::size_t k_max_requests = 8;

const std::string& state_file()
{
    static const std::string path = [] {
        std::filesystem::path base =
            std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
        auto dir = base / ("pitool-fuzz-sandbox-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        return (dir / "state.json").string();
    }();
    return path;
}

void collect(const json& j, std::map<std::string, std::string>& vars, int depth = 0)
{
    if (depth > 8) return;
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (it->is_string())
                vars[it.key()] = it->get<std::string>();
            else
                collect(*it, vars, depth + 1);
        }
    } else if (j.is_array()) {
        for (const auto& v : j) collect(v, vars, depth + 1);
    }
}

std::string substitute(std::string_view in, const std::map<std::string, std::string>& vars)
{
    std::string out;
    while (!in.empty()) {
        auto open = in.find("${");
        if (open == std::string_view::npos) break;
        auto close = in.find('}', open);
        if (close == std::string_view::npos) break;
        out.append(in.substr(0, open));
        auto it = vars.find(std::string(in.substr(open + 2, close - open - 2)));
        if (it != vars.end())
            out += it->second;
        else
            out.append(in.substr(open, close - open + 1));
        in.remove_prefix(close + 1);
    }
    out.append(in);
    return out;
}

sandbox::Request build(std::string_view text)
{
    sandbox::Request req;
    std::string_view line = fuzz::take_until(text, "\n");
    req.method = std::string(fuzz::take_until(line, " "));
    std::string_view target = line;
    std::string_view path = fuzz::take_until(target, "?");
    req.path = std::string(path);
    while (!target.empty()) {
        std::string_view pair = fuzz::take_until(target, "&");
        std::string_view key = fuzz::take_until(pair, "=");
        req.query.emplace(std::string(key), std::string(pair));
    }
    while (!text.empty()) {
        std::string_view h = fuzz::take_until(text, "\n");
        if (h.empty()) break;
        std::string name(fuzz::take_until(h, ":"));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
        req.headers[name] = std::string(h);
    }
    req.body = std::string(text);
    return req;
}

void check(const sandbox::Response& res)
{
    require(res.status >= 100 && res.status <= 599, "status is a valid HTTP status");
    require(res.delay_ms >= 0, "delay is not negative");
    for (const auto& [name, value] : res.headers) {
        require(name.find_first_of("\r\n:") == std::string::npos && !name.empty(), "header name is a token");
        require(value.find_first_of("\r\n") == std::string::npos, "header value has no CR/LF");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::filesystem::remove(state_file());
    sandbox::Config config;
    config.burst_max = 4; // small enough for a few requests to reach the rate limiter
    sandbox::Sandbox box(config, state_file());
    box.set_origin("http://127.0.0.1:8080");
    std::map<std::string, std::string> vars;
    for (std::size_t i = 0; i < k_max_requests && !in.empty(); ++i) {
        std::string text = substitute(fuzz::take_until(in, "\x1e"), vars);
        auto res = box.handle(build(text));
        check(res);
        json j = json::parse(res.body, nullptr, false);
        if (!j.is_discarded()) collect(j, vars);
    }
    sandbox::Sandbox reloaded(config, state_file());
    std::string error;
    require(reloaded.load(error), "the sandbox reloads the state it saved");
    return 0;
}
