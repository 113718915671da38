#include "cli/commands/commands.hpp"
#include "cli/common.hpp"
#include "cli/due.hpp"
#include "cli/input.hpp"
#include "cli/log.hpp"
#include "cli/network.hpp"
#include "cli/output.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/exit_codes.hpp"
#include "pitool/providers/test_call.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <iostream>
#include <ostream>

namespace pitool::cli::commands {
namespace {

struct TestCallOptions {
    std::string name;
    bool old = false;
    bool fail_if_due = false;
    std::string method;
    std::string path;
    std::string data;
    bool all = false;
    int parallel = 0;
    bool parallel_given = false;
    std::string provider;
    std::string kind;
};

/// --parallel default and bounds for --all.
constexpr int k_default_parallel = 16;
constexpr int k_max_parallel = 64;

// Per-provider shares of a --all batch (docs/cli.md#test-call). LeadConnector
// counts its burst limit (100 per 10 s; 25 for sandbox PITs) per app and
// location, and --all sends one request per credential, so the cap on
// requests in flight is what keeps us a polite client. Hint documents 20 (or
// 100) requests per second: its starts are also held to 20 per second.
constexpr int k_leadconnector_in_flight = k_max_parallel; // only --parallel bounds it
constexpr int k_hint_in_flight = 10;
constexpr int k_hint_starts_per_second = 20;

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

Status run_test_call_all(Context& ctx, const TestCallOptions& o);

Status run_test_call(Context& ctx, const TestCallOptions& o)
{
    if (o.all) return run_test_call_all(ctx, o);
    if (o.name.empty()) return make_error(Errc::usage, "test-call needs an integration name or --all");
    if (o.parallel_given || !o.provider.empty() || !o.kind.empty())
        return make_error(Errc::usage, "--parallel, --provider and --kind go with --all");
    PITOOL_TRY(core::validate_name(o.name));
    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto opened, s.open());
    PITOOL_TRY_ASSIGN(auto found, find_integration(*opened, o.name));
    auto now = ctx.clock.now();
    if (o.old && !core::window_open(*found, now))
        return make_error(Errc::conflict, "no rotation window is open for '" + o.name + "': there is no old token");
    PITOOL_TRY(check_due(ctx, *found, o.fail_if_due));

    providers::CallSpec spec;
    if (o.path.empty()) {
        PITOOL_TRY_ASSIGN(auto def, providers::default_call(*found));
        spec = std::move(def);
    } else {
        spec.path = o.path;
    }
    if (!o.method.empty()) {
        PITOOL_TRY_ASSIGN(auto m, parse_method(o.method));
        spec.method = m;
    } else if (!o.data.empty()) {
        spec.method = http::Method::post;
    }
    if (!o.data.empty()) {
        PITOOL_TRY_ASSIGN(auto body, read_data(o.data));
        spec.json_body = std::move(body);
    }

    PITOOL_TRY_ASSIGN(auto client, make_client(ctx));
    const core::Integration* in = found;
    if (!o.old && needs_refresh(*in, now)) {
        PITOOL_TRY(refresh_oauth(s, *client, o.name, false));
        in = s.open().value()->payload().find(o.name);
    }
    const core::Token& token = o.old ? in->rotation->old : in->token;
    std::string fp = token.fingerprint;
    PITOOL_TRY_ASSIGN(auto outcome, providers::test_call(*client, *in, token.value, spec));
    const auto& out = outcome;
    if (!out.rate_limit.describe().empty()) debug(ctx, out.rate_limit.describe());

    bool judged = o.path.empty() || out.ok || providers::errc_for(out.failure) == Errc::rejected;
    if (!o.old && judged) {
        // Record when this token last worked (or was refused), if it is still current.
        core::LastCheck check{ctx.clock.now(), static_cast<int>(out.status), out.ok, out.summary};
        auto saved = s.mutate_if([&](vault::Vault& v) -> Result<bool> {
            PITOOL_TRY(v.load(o.name, /*secrets=*/false));
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

/// One credential of a --all run.
struct Item {
    std::string name;
    std::string fingerprint;
    core::Provider provider = core::Provider::leadconnector;
    providers::CallSpec spec;
    std::optional<providers::CallOutcome> outcome; ///< the provider answered
    std::optional<Error> error;                    ///< it did not (or we could not ask)
    std::size_t request = 0;                       ///< index into the batch

    [[nodiscard]] bool ok() const { return outcome && outcome->ok; }
    /// What a single test-call of this credential would have exited with.
    [[nodiscard]] Errc errc() const
    {
        if (error) return error->code;
        return outcome->ok ? Errc::internal : providers::errc_for(outcome->failure);
    }
};

nlohmann::json item_json(const Item& it)
{
    const auto* out = it.outcome ? &*it.outcome : nullptr;
    nlohmann::json err = nullptr;
    if (it.error)
        err = {{"code", static_cast<int>(exit_code_for(it.error->code))},
               {"kind", errc_name(it.error->code)},
               {"message", it.error->message}};
    return {{"name", it.name},
            {"token", "current"},
            {"fingerprint", it.fingerprint},
            {"method", http::method_name(it.spec.method)},
            {"path", it.spec.path},
            {"status", out ? out->status : 0},
            {"ok", it.ok()},
            {"failure", out == nullptr || out->ok ? nlohmann::json(nullptr) : nlohmann::json(to_string(out->failure))},
            {"latency_ms", out ? out->latency.count() : 0},
            {"attempts", out ? out->attempts : 0},
            {"summary", out ? out->summary : it.error->message},
            {"error", err}};
}

/// "\r37/200 checked" on a terminal's stderr, overwritten in place.
class ProgressLine {
public:
    explicit ProgressLine(Context& ctx)
        : m_ctx(ctx), m_on(&ctx.err == &std::cerr && !ctx.opts.quiet && ::isatty(STDERR_FILENO) == 1)
    {
    }
    ~ProgressLine() { clear(); }
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    void show(std::size_t done, std::size_t total)
    {
        if (!m_on) return;
        m_ctx.err << "\rtest-call: " << done << "/" << total << " checked" << std::flush;
        m_shown = true;
    }
    void clear()
    {
        if (m_on && m_shown) m_ctx.err << "\r\033[K" << std::flush;
        m_shown = false;
    }

private:
    Context& m_ctx;
    bool m_on;
    bool m_shown = false;
};

/// Records every verdict on its credential in one locked write (a warning
/// if that fails).
void record_verdicts(Context& ctx, Session& s, const std::vector<Item>& items)
{
    // Record every verdict on the credential in one locked write, skipping
    // tokens that changed while we were asking.
    const auto checked_at = ctx.clock.now();
    bool any_judged = false;
    for (const auto& it : items)
        any_judged = any_judged || (it.outcome && (it.outcome->ok || it.errc() == Errc::rejected));
    if (any_judged) {
        auto saved = s.mutate_if([&](vault::Vault& vv) -> Result<bool> {
            bool changed = false;
            for (const auto& it : items) {
                if (!it.outcome || !(it.outcome->ok || it.errc() == Errc::rejected)) continue;
                PITOOL_TRY(vv.load(it.name, /*secrets=*/false));
                auto* cur = vv.payload().find(it.name);
                if (cur == nullptr || cur->token.fingerprint != it.fingerprint) continue;
                cur->last_check = core::LastCheck{checked_at, static_cast<int>(it.outcome->status), it.outcome->ok,
                                                  it.outcome->summary};
                changed = true;
            }
            return changed;
        });
        if (!saved) warn(ctx, "could not record the test call results: " + saved.error().message);
    }
}

/// Prints the results of test-call --all; the exit code a single test-call
/// would give.
Status report_all(Context& ctx, const std::vector<Item>& items)
{
    std::size_t ok = 0;
    const Item* first_failed = nullptr;
    bool any_rejected = false;
    bool any_unavailable = false;
    for (const auto& it : items) {
        if (it.ok()) {
            ++ok;
            continue;
        }
        if (first_failed == nullptr) first_failed = &it;
        any_rejected = any_rejected || it.errc() == Errc::rejected;
        any_unavailable = any_unavailable || it.errc() == Errc::unavailable;
    }
    const std::size_t failed = items.size() - ok;
    if (ctx.opts.json) {
        auto arr = nlohmann::json::array();
        for (const auto& it : items) arr.push_back(item_json(it));
        print_json(ctx, {{"results", arr}, {"summary", {{"total", items.size()}, {"ok", ok}, {"failed", failed}}}});
    } else if (!items.empty()) {
        std::vector<std::vector<std::string>> rows{{"NAME", "RESULT", "HTTP", "MS", "DETAIL"}};
        for (const auto& it : items) {
            const auto* out = it.outcome ? &*it.outcome : nullptr;
            rows.push_back({it.name, it.ok() ? "OK" : (out != nullptr ? "FAILED" : "ERROR"),
                            out != nullptr ? std::to_string(out->status) : "-",
                            out != nullptr ? std::to_string(out->latency.count()) : "-",
                            out != nullptr ? out->summary : it.error->message});
        }
        print_table(ctx.out, rows);
        ctx.out << items.size() << " checked: " << ok << " ok, " << failed << " failed\n";
    }
    if (first_failed == nullptr) return {};
    // The exit code a single test-call would give; a rejected credential
    // outranks an unreachable provider, which outranks anything else.
    const Errc code = any_rejected ? Errc::rejected : any_unavailable ? Errc::unavailable : first_failed->errc();
    return make_error(code, std::to_string(failed) + " of " + std::to_string(items.size()) + " test calls failed");
}

Status run_test_call_all(Context& ctx, const TestCallOptions& o)
{
    if (!o.name.empty()) return make_error(Errc::usage, "give an integration name or --all, not both");
    if (o.old || !o.method.empty() || !o.path.empty() || !o.data.empty())
        return make_error(Errc::usage, "--all makes each credential's default read-only call: "
                                       "--old, --method, --path and --data go with a single name");
    if (o.fail_if_due)
        return make_error(Errc::usage, "--fail-if-due goes with a single name (audit finds every due token)");
    const int parallel = o.parallel_given ? o.parallel : k_default_parallel;
    if (parallel < 1 || parallel > k_max_parallel)
        return make_error(Errc::usage, "--parallel must be between 1 and " + std::to_string(k_max_parallel));
    PITOOL_TRY_ASSIGN(auto filter, parse_filter(o.provider, o.kind));
    if (filter.kind == core::Kind::oauth_app)
        return make_error(Errc::usage, "an OAuth app's client secret is not a bearer token: it cannot be tested");

    Session s(ctx);
    PITOOL_TRY_ASSIGN(auto opened, s.open_all());
    std::vector<std::string> names;
    std::vector<std::string> to_refresh;
    const auto now = ctx.clock.now();
    for (const auto& in : opened->payload().integrations) {
        if (in.kind == core::Kind::oauth_app) continue;
        if (!filter.matches(in)) continue;
        names.push_back(in.name);
        if (needs_refresh(in, now)) to_refresh.push_back(in.name);
    }
    if (names.empty() && !ctx.opts.quiet) ctx.err << "pitool: no stored token matches\n";

    std::unique_ptr<http::Client> client;
    if (!names.empty()) {
        PITOOL_TRY_ASSIGN(auto made, make_client(ctx));
        client = std::move(made);
    }
    // Access tokens about to expire are refreshed first, one at a time and
    // each under the lock, exactly as a single test-call would; a failed
    // refresh is that credential's result.
    std::map<std::string, Error> refresh_errors;
    for (const auto& name : to_refresh) {
        auto r = refresh_oauth(s, *client, name, false);
        if (!r) refresh_errors.emplace(name, std::move(r).error());
    }
    if (!to_refresh.empty()) {
        PITOOL_TRY_ASSIGN(opened, s.open_all());
    }

    std::vector<Item> items;
    std::vector<http::Request> requests;
    http::BatchOptions batch;
    batch.max_in_flight = parallel;
    batch.pools = {{std::min(parallel, k_leadconnector_in_flight), 0},
                   {std::min(parallel, k_hint_in_flight), k_hint_starts_per_second}};
    vault::Vault& v = *opened;
    for (const auto& name : names) {
        // Every record is loaded (metadata): this reads its tokens in place.
        PITOOL_TRY(v.load(name, /*secrets=*/true));
        const core::Integration* in = v.payload().find(name);
        if (in == nullptr) continue; // deleted meanwhile
        Item it;
        it.name = name;
        it.fingerprint = in->token.fingerprint;
        it.provider = in->provider;
        if (auto e = refresh_errors.find(name); e != refresh_errors.end()) {
            it.error = e->second;
        } else if (auto spec = providers::default_call(*in); !spec) {
            it.error = spec.error();
        } else {
            it.spec = std::move(spec).value();
            it.request = requests.size();
            requests.push_back(providers::test_request(*in, in->token.value, it.spec));
            batch.pool_of.push_back(in->provider == core::Provider::hint ? 1 : 0);
        }
        items.push_back(std::move(it));
    }

    std::vector<Result<http::Response>> answers;
    if (!requests.empty()) {
        ProgressLine progress(ctx);
        batch.progress = [&](std::size_t done, std::size_t total) { progress.show(done, total); };
        answers = client->perform_all(requests, batch);
    }
    for (auto& it : items) {
        if (it.error) continue;
        auto& answer = answers[it.request];
        if (!answer) {
            it.error = answer.error();
            continue;
        }
        const core::Integration* in = v.payload().find(it.name);
        it.outcome = providers::judge_test_call(*in, in->token.value, it.spec, answer.value());
    }
    requests.clear(); // wipes the bearer copies now

    record_verdicts(ctx, s, items);
    return report_all(ctx, items);
}

} // namespace

Handler setup_test_call(CLI::App& sub)
{
    auto o = std::make_shared<TestCallOptions>();
    sub.add_option("name", o->name, "Integration name (or --all)");
    sub.add_flag("--all", o->all, "Test every stored token (oauth apps excepted) concurrently");
    CLI::Option* parallel = sub.add_option("--parallel", o->parallel,
                                           "With --all: requests in flight at once, 1-64 (default " +
                                               std::to_string(k_default_parallel) + ")");
    sub.add_option("--provider", o->provider, "With --all: only this provider");
    sub.add_option("--kind", o->kind, "With --all: only this kind");
    sub.add_flag("--old", o->old, "Test the previous token, while its rotation window is open");
    add_fail_if_due_flag(sub, o->fail_if_due);
    sub.add_option("--method", o->method, "HTTP method (default GET, or POST with --data)");
    sub.add_option("--path", o->path, "Request path relative to the base URL (default: a read-only call)");
    sub.add_option("--data", o->data, "JSON body, or @FILE to read it from a file");
    return [o, parallel](Context& ctx) {
        o->parallel_given = parallel->count() > 0;
        return run_test_call(ctx, *o);
    };
}

} // namespace pitool::cli::commands
