// The overdue check of get, exec and test-call (docs/cli.md "Overdue
// tokens"): a warning line in the warn band and past the policy, exit 9 and
// nothing used under --fail-if-due or PITOOL_FAIL_IF_DUE=1, show's due
// date, audit's formats (csv, prometheus) and filters, and history's
// filters: what ops staff feed to their tools. The token is issued at T (2026-01-01); the default policy makes it
// due at T+90 days (2026-04-01) and warns from T+76 days.
#include "cli/cli_fixture.hpp"
#include "support/vault_snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pitool::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* k_day70 = "2026-03-12 00:00:00"; // ok: due in 20 days
constexpr const char* k_day80 = "2026-03-22 00:00:00"; // warn: due in 10 days
constexpr const char* k_day95 = "2026-04-06 00:00:00"; // due: 5 days past

class Overdue : public CliTest {
protected:
    void SetUp() override
    {
        init_vault(k_t0);
        create_pit("a", k_token, k_t0);
    }
};

TEST_F(Overdue, YoungTokenGetsNoWarning)
{
    auto r = ok({"get", "a", "--fail-if-due"}, {.at = k_day70});
    EXPECT_EQ(r.out, std::string(k_token) + "\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(Overdue, WarnBandWarnsOnceAndStillHandsOutTheToken)
{
    auto r = ok({"get", "a", "--fail-if-due"}, {.at = k_day80});
    EXPECT_EQ(r.out, std::string(k_token) + "\n");
    EXPECT_EQ(r.err, "pitool: warning: 'a' is due soon: token is 80 days old; due in 10 days; run: pitool rotate a\n");
    EXPECT_EQ(ok({"-q", "get", "a"}, {.at = k_day80}).err, "");
}

TEST_F(Overdue, DueTokenWarnsButIsUsedWithoutTheFlag)
{
    auto r = ok({"get", "a"}, {.at = k_day95});
    EXPECT_EQ(r.out, std::string(k_token) + "\n");
    EXPECT_EQ(r.err, "pitool: warning: 'a' is due for rotation: token is 95 days old; rotate every 90 days; "
                     "run: pitool rotate a\n");
    auto e = ok({"exec", "a", "--", "sh", "-c", "echo ${#PITOOL_TOKEN}"}, {.at = k_day95});
    EXPECT_EQ(e.out, std::to_string(k_token.size()) + "\n");
    EXPECT_THAT(e.err, HasSubstr("is due for rotation"));
}

TEST_F(Overdue, FailIfDueRefusesEveryUseWithNineAndWritesNothing)
{
    const VaultSnapshot before(m_dir);
    const auto marker = m_tmp / "exec-ran";
    const std::vector<std::vector<std::string>> uses = {
        {"get", "a", "--fail-if-due"},
        {"--json", "get", "a", "--fail-if-due"},
        {"exec", "a", "--fail-if-due", "--", "touch", marker.string()},
        {"test-call", "a", "--fail-if-due"},
    };
    for (const auto& args : uses) {
        auto r = pitool(args, {.at = k_day95});
        EXPECT_EQ(r.exit_code, 9) << describe(r);
        EXPECT_THAT(r.out + r.err, Not(HasSubstr(std::string(k_token))));
        if (args[0] == "--json") {
            EXPECT_THAT(r.out, HasSubstr("\"code\":9"));
        } else {
            EXPECT_EQ(r.out, "");
            EXPECT_EQ(r.err, "pitool: error: 'a' is due for rotation: token is 95 days old; rotate every 90 days; "
                             "run: pitool rotate a (refused: --fail-if-due)\n");
        }
    }
    EXPECT_FALSE(std::filesystem::exists(marker)) << "exec ran the command of a due token";
    EXPECT_TRUE(before.unchanged());
}

TEST_F(Overdue, TheVariableActsAsTheFlagAndIsChecked)
{
    auto r = pitool({"get", "a"}, {.env = {{"PITOOL_FAIL_IF_DUE", "1"}}, .at = k_day95});
    EXPECT_EQ(r.exit_code, 9) << describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(ok({"get", "a"}, {.env = {{"PITOOL_FAIL_IF_DUE", "0"}}, .at = k_day95}).out, std::string(k_token) + "\n");
    // Only a warning in the warn band, even under the variable.
    EXPECT_EQ(ok({"get", "a"}, {.env = {{"PITOOL_FAIL_IF_DUE", "1"}}, .at = k_day80}).out, std::string(k_token) + "\n");
    auto bad = pitool({"get", "a"}, {.env = {{"PITOOL_FAIL_IF_DUE", "yes"}}, .at = k_day70});
    EXPECT_EQ(bad.exit_code, 2) << describe(bad);
    EXPECT_EQ(bad.err, "pitool: error: PITOOL_FAIL_IF_DUE must be 0 or 1\n");
}

TEST_F(Overdue, TheOldTokenOfAnOpenWindowIsNotJudgedButItsSuccessorIs)
{
    rotate("a", k_token2, k_day95);
    // Right after the rotation: the new token is young, the old one is handed out.
    auto r = ok({"get", "a", "--old", "--fail-if-due"}, {.at = k_day95});
    EXPECT_EQ(r.out, std::string(k_token) + "\n");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(ok({"get", "a", "--fail-if-due"}, {.at = k_day95}).out, std::string(k_token2) + "\n");
}

TEST_F(Overdue, AllWithTheFlagIsAUsageError)
{
    auto r = pitool({"test-call", "--all", "--fail-if-due"}, {.at = k_day95});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_THAT(r.err, HasSubstr("--fail-if-due goes with a single name"));
}

TEST_F(Overdue, ShowSaysWhenItIsDue)
{
    EXPECT_THAT(ok({"show", "a"}, {.at = k_day70}).out,
                HasSubstr("\ndue:       2026-04-01T00:00:00+00:00 (in 20 days; ok)\n"));
    EXPECT_THAT(ok({"show", "a"}, {.at = k_day95}).out,
                HasSubstr("\ndue:       2026-04-01T00:00:00+00:00 (5 days ago; due)\n"));
}

/// Two PITs: "a" issued at T (due at day 95), "b" at day 80 (15 days old at day 95).
class AuditFormats : public Overdue {
protected:
    void SetUp() override
    {
        Overdue::SetUp();
        create_pit("b", k_token2, k_day80);
        fp_a = ok_json({"show", "a", "--json"}, {.at = k_day95})["token"]["fingerprint"];
        fp_b = ok_json({"show", "b", "--json"}, {.at = k_day95})["token"]["fingerprint"];
    }
    std::string fp_a, fp_b;
};

TEST_F(AuditFormats, CsvHasOneQuotedRowPerIntegrationAndExitsNineOnFindings)
{
    auto r = pitool({"audit", "--format", "csv"}, {.at = k_day95});
    EXPECT_EQ(r.exit_code, 9) << describe(r);
    EXPECT_EQ(r.out, "name,provider,kind,account_id,verdict,age_days,issued_at,due_at,fingerprint,reason\r\n"
                     "a,leadconnector,pit,loc-1,due,95,2026-01-01T00:00:00Z,2026-04-01T00:00:00Z," +
                         fp_a +
                         ",token is 95 days old; rotate every 90 days\r\n"
                         "b,leadconnector,pit,loc-1,ok,15,2026-03-22T00:00:00Z,2026-06-20T00:00:00Z," +
                         fp_b + ",token is 15 days old; due in 75 days\r\n");
    EXPECT_EQ(r.err, "pitool: error: 1 integration needs attention (due or expired)\n");
}

TEST_F(AuditFormats, PrometheusTextfileGroupsEachMetric)
{
    auto r = pitool({"audit", "--format", "prometheus"}, {.at = k_day95});
    EXPECT_EQ(r.exit_code, 9) << describe(r);
    const std::string a = "{name=\"a\",provider=\"leadconnector\",kind=\"pit\"} ";
    const std::string b = "{name=\"b\",provider=\"leadconnector\",kind=\"pit\"} ";
    EXPECT_EQ(
        r.out,
        "# HELP pitool_token_age_days Whole days since the current token was issued (oauth: last refresh).\n"
        "# TYPE pitool_token_age_days gauge\n"
        "pitool_token_age_days" +
            a +
            "95\n"
            "pitool_token_age_days" +
            b +
            "15\n"
            "# HELP pitool_token_due_in_days Whole days until the token is due for rotation (negative: overdue).\n"
            "# TYPE pitool_token_due_in_days gauge\n"
            "pitool_token_due_in_days" +
            a +
            "-5\n"
            "pitool_token_due_in_days" +
            b +
            "75\n"
            "# HELP pitool_last_check_ok 1 if the last test call of the current token succeeded, else 0.\n"
            "# TYPE pitool_last_check_ok gauge\n");
    EXPECT_THAT(r.out, Not(HasSubstr(std::string(k_token))));
}

TEST_F(AuditFormats, FiltersAndFormatAgreeWithJson)
{
    auto none = pitool({"audit", "--format", "csv", "--provider", "hint"}, {.at = k_day95});
    EXPECT_EQ(none.exit_code, 0) << describe(none);
    EXPECT_EQ(none.out, "name,provider,kind,account_id,verdict,age_days,issued_at,due_at,fingerprint,reason\r\n");
    auto pits = pitool({"audit", "--format", "json", "--kind", "pit"}, {.at = k_day95});
    EXPECT_EQ(pits.exit_code, 9) << describe(pits);
    EXPECT_EQ(pits.out, pitool({"--json", "audit"}, {.at = k_day95}).out);
    EXPECT_EQ(pits.out, pitool({"--json", "audit", "--format", "json"}, {.at = k_day95}).out);
    EXPECT_EQ(nlohmann::json::parse(pits.out)["findings"].size(), 2u);

    auto clash = pitool({"--json", "audit", "--format", "csv"}, {.at = k_day95});
    EXPECT_EQ(clash.exit_code, 2) << describe(clash);
    EXPECT_THAT(clash.out, HasSubstr("--json and --format csv disagree"));
    auto bad = pitool({"audit", "--format", "xml"}, {.at = k_day95});
    EXPECT_EQ(bad.exit_code, 2) << describe(bad);
    EXPECT_EQ(bad.err, "pitool: error: --format must be table, json, csv or prometheus\n");
    auto kind = pitool({"audit", "--kind", "pat"}, {.at = k_day95});
    EXPECT_EQ(kind.exit_code, 2) << describe(kind);
}

class HistoryFilters : public Overdue {
protected:
    void SetUp() override
    {
        Overdue::SetUp();
        create_pit("b", k_token2, k_day70);
        rotate("a", "pit-0a0a0a0a-1111-4222-8333-444455556666", k_day80);
    }
    /// (action, name) of the events a history --json call returns.
    std::vector<std::pair<std::string, std::string>> events_of(const std::vector<std::string>& args) const
    {
        std::vector<std::string> all = {"--json", "history"};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<std::pair<std::string, std::string>> out;
        const auto doc = ok_json(all, {.at = k_day95}); // not a temporary: the loop reads into it
        for (const auto& e : doc.at("events")) out.emplace_back(e["action"], e["name"]);
        return out;
    }
    using Events = std::vector<std::pair<std::string, std::string>>;
};

TEST_F(HistoryFilters, NameActionAndSinceCombine)
{
    EXPECT_EQ(events_of({}), (Events{{"init", ""}, {"create", "a"}, {"create", "b"}, {"rotate", "a"}}));
    EXPECT_EQ(events_of({"--name", "a"}), (Events{{"create", "a"}, {"rotate", "a"}}));
    EXPECT_EQ(events_of({"a"}), events_of({"--name", "a"}));
    EXPECT_EQ(events_of({"--action", "create"}), (Events{{"create", "a"}, {"create", "b"}}));
    EXPECT_EQ(events_of({"--action", "create", "--name", "b"}), (Events{{"create", "b"}}));
    // Day 70 exactly is kept; a duration counts back from now (day 95).
    EXPECT_EQ(events_of({"--since", "2026-03-12T00:00:00Z"}), (Events{{"create", "b"}, {"rotate", "a"}}));
    EXPECT_EQ(events_of({"--since", "20d"}), (Events{{"rotate", "a"}}));
    EXPECT_EQ(events_of({"--since", "1d"}), Events{});
    auto table = ok({"history", "--action", "rotate"}, {.at = k_day95}).out;
    EXPECT_THAT(table, HasSubstr("rotate"));
    EXPECT_THAT(table, Not(HasSubstr("create")));
}

TEST_F(HistoryFilters, BadFiltersAreUsageErrors)
{
    auto action = pitool({"history", "--action", "rotated"}, {.at = k_day95});
    EXPECT_EQ(action.exit_code, 2) << describe(action);
    EXPECT_THAT(action.err, HasSubstr("--action must be one of init, create, rotate"));
    auto since = pitool({"history", "--since", "yesterday"}, {.at = k_day95});
    EXPECT_EQ(since.exit_code, 2) << describe(since);
    EXPECT_TRUE(one_line(since.err)) << since.err;
    auto twice = pitool({"history", "a", "--name", "b"}, {.at = k_day95});
    EXPECT_EQ(twice.exit_code, 2) << describe(twice);
}

} // namespace
} // namespace pitool::test
