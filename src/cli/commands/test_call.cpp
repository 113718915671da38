#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/input.hpp"
#include "cli/log.hpp"
#include "cli/network.hpp"
#include "cli/output.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/providers/test_call.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ostream>

namespace pitool::cli::commands {
namespace {

struct TestCallOptions {
    std::string name;
    bool old = false;
    std::string method;
    std::string path;
    std::string data;
};

Result<http::Method> parse_method(std::string m)
{
    for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (m == "GET") return http::Method::get;
    if (m == "POST") return http::Method::post;
    if (m == "PUT") return http::Method::put;
    if (m == "PATCH") return http::Method::patch;
    if (m == "DELETE") return http::Method::del;
    return make_error(Errc::usage, "--method must be GET, POST, PUT, PATCH or DELETE");
}

/// --data '{...}' or --data @FILE, checked to be JSON. The body may hold
/// personal data: it goes in guarded memory and is never logged.
Result<Secret> read_data(const std::string& data)
{
    Result<Secret> body = data.size() > 1 && data[0] == '@' ? read_secret_file(data.substr(1), "--data file")
                                                            : Result<Secret>(Secret::from(data));
    if (!body) return body;
    if (!nlohmann::json::accept(body->view().begin(), body->view().end()))
        return make_error(Errc::usage, "--data is not valid JSON");
    return body;
}

Status run_test_call(Context& ctx, const TestCallOptions& o)
{
    PITOOL_TRY(core::validate_name(o.name));
    Session s(ctx);
    auto opened = s.open();
    if (!opened) return std::move(opened).error();
    auto found = find_integration(std::as_const(opened.value()->payload()), o.name);
    if (!found) return std::move(found).error();
    auto now = ctx.clock.now();
    if (o.old && !core::window_open(*found.value(), now))
        return make_error(Errc::conflict, "no rotation window is open for '" + o.name + "': there is no old token");

    providers::CallSpec spec;
    if (o.path.empty()) {
        auto def = providers::default_call(*found.value());
        if (!def) return std::move(def).error();
        spec = std::move(def).value();
    } else {
        spec.path = o.path;
    }
    if (!o.method.empty()) {
        auto m = parse_method(o.method);
        if (!m) return std::move(m).error();
        spec.method = m.value();
    } else if (!o.data.empty()) {
        spec.method = http::Method::post;
    }
    if (!o.data.empty()) {
        auto body = read_data(o.data);
        if (!body) return std::move(body).error();
        spec.json_body = std::move(body).value();
    }

    auto client = make_client(ctx);
    if (!client) return std::move(client).error();
    const core::Integration* in = found.value();
    if (!o.old && needs_refresh(*in, now)) {
        auto r = refresh_oauth(s, *client.value(), o.name, false);
        if (!r) return std::move(r).error();
        in = s.open().value()->payload().find(o.name);
    }
    const core::Token& token = o.old ? in->rotation->old : in->token;
    std::string fp = token.fingerprint;
    auto outcome = providers::test_call(*client.value(), *in, token.value, spec);
    if (!outcome) return std::move(outcome).error();
    const auto& out = outcome.value();
    if (!out.rate_limit.describe().empty()) debug(ctx, out.rate_limit.describe());

    bool judged = o.path.empty() || out.ok || providers::errc_for(out.failure) == Errc::rejected;
    if (!o.old && judged) {
        // Record when this token last worked (or was refused), if it is still current.
        core::LastCheck check{ctx.clock.now(), static_cast<int>(out.status), out.ok, out.summary};
        auto saved = s.mutate_if([&](vault::Vault& v) -> Result<bool> {
            auto* cur = v.payload().find(o.name);
            if (cur == nullptr || cur->token.fingerprint != fp) return false;
            cur->last_check = check;
            return true;
        });
        if (!saved) warn(ctx, "could not record the test call result: " + saved.error().message);
    }

    if (ctx.opts.json) {
        print_json(ctx, {{"name", o.name},
                         {"token", o.old ? "old" : "current"},
                         {"fingerprint", fp},
                         {"method", http::method_name(spec.method)},
                         {"path", spec.path},
                         {"status", out.status},
                         {"ok", out.ok},
                         {"failure", out.ok ? nlohmann::json(nullptr) : nlohmann::json(to_string(out.failure))},
                         {"latency_ms", out.latency.count()},
                         {"attempts", out.attempts},
                         {"summary", out.summary}});
    } else {
        ctx.out << (out.ok ? "OK " : "FAILED ") << o.name << " (" << (o.old ? "old token " : "token ") << fp
                << "): " << http::method_name(spec.method) << " " << spec.path << " -> HTTP " << out.status << " in "
                << out.latency.count() << " ms: " << out.summary << "\n";
    }
    if (!out.ok)
        return make_error(providers::errc_for(out.failure),
                          "test call failed: HTTP " + std::to_string(out.status) + ", " + out.summary);
    return {};
}

} // namespace

Handler setup_test_call(CLI::App& sub)
{
    auto o = std::make_shared<TestCallOptions>();
    sub.add_option("name", o->name, "Integration name")->required();
    sub.add_flag("--old", o->old, "Test the previous token, while its rotation window is open");
    sub.add_option("--method", o->method, "HTTP method (default GET, or POST with --data)");
    sub.add_option("--path", o->path, "Request path relative to the base URL (default: a read-only call)");
    sub.add_option("--data", o->data, "JSON body, or @FILE to read it from a file");
    return [o](Context& ctx) { return run_test_call(ctx, *o); };
}

} // namespace pitool::cli::commands
