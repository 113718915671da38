#include "cli/guide.hpp"

#include "cli/output.hpp"

#include <ostream>

namespace pitool::cli {
namespace {

constexpr const char* k_paste = "Paste it at the prompt below (the input is hidden).";

/// "  1. text\n" for each step.
std::string numbered(std::initializer_list<std::string> steps)
{
    std::string out;
    int n = 0;
    for (const auto& s : steps) out += "  " + std::to_string(++n) + ". " + s + "\n";
    return out;
}

std::string scopes_text(const core::Integration& in)
{
    std::string s;
    for (const auto& sc : in.scopes) s += " " + shown(sc);
    return s;
}

// LeadConnector PITs: Settings > Private Integrations, "Create new
// Integration" with a name, a description and scopes; the token is shown
// once. Rotation: click the integration, "Rotate and expire this token
// later" (then "Continue" at the warning; both tokens work 7 days) or "...
// now" (the old one is invalid at once).
std::string pit_steps(const core::Integration& in, TokenAction action)
{
    const std::string name = shown(in.name);
    if (action == TokenAction::create) {
        std::string where = "Open Settings > Private Integrations";
        if (in.level == core::Level::agency)
            where += " in the agency's settings (agency " + shown(in.account_id) +
                     "; not there? turn Private Integrations on in Labs).";
        else if (in.level == core::Level::location)
            where += " in the sub-account's settings (location " + shown(in.account_id) + ").";
        else
            where += ".";
        return "In LeadConnector (HighLevel), create a Private Integration:\n" +
               numbered({where, "Click \"Create new Integration\".",
                         "Name it (e.g. \"" + name + "\") and describe what it is for.",
                         in.scopes.empty() ? std::string("Select only the scopes it needs.")
                                           : "Select these scopes, and only these:" + scopes_text(in),
                         "Copy the token: it is shown once and cannot be shown again.", k_paste});
    }
    const bool later = action == TokenAction::rotate_later;
    return "In LeadConnector (HighLevel), rotate the token of " + name + ":\n" +
           numbered({"Open Settings > Private Integrations and click the integration.",
                     later ? "Click \"Rotate and expire this token later\", then \"Continue\" at the warning."
                           : "Click \"Rotate and expire this token now\": the old token stops working at once.",
                     later ? "Copy the new token: it is shown once. Old and new both work for 7 days."
                           : "Copy the new token: it is shown once.",
                     k_paste});
}

// Hint: a partner key authenticates the exchange of InstantOn codes; a
// practice key usually comes from that exchange. Rotation on Hint is: create
// a new key, switch consumers, delete the old. Where in Hint's UI a key is
// made the documentation does not say, so neither do these steps.
std::string hint_steps(const core::Integration& in, TokenAction action)
{
    const std::string name = shown(in.name);
    const char* what = in.kind == core::Kind::partner_key ? "partner API key" : "practice API key";
    if (action == TokenAction::create) {
        if (in.kind == core::Kind::partner_key)
            return std::string("Hint: your ") + what +
                   " (it authenticates the exchange of InstantOn codes: pitool exchange-code).\n" + numbered({k_paste});
        return std::string("Hint: a ") + what +
               (in.account_id.empty() ? std::string() : " of practice " + shown(in.account_id)) + ".\n" +
               numbered({"A practice that connects with InstantOn gives you a code: "
                         "`pitool exchange-code --provider hint` stores its key, nothing to paste.",
                         std::string("A key you already hold: ") + k_paste});
    }
    return std::string("Hint rotates a key by creating a new one, switching consumers, deleting the old:\n") +
           numbered({std::string("Create a new ") + what + " in Hint.", k_paste,
                     action == TokenAction::rotate_later
                         ? "Once every consumer uses it, delete the old key in Hint and run: pitool expire-old " + name
                         : std::string("Delete the old key in Hint.")});
}

} // namespace

std::string token_steps(const core::Integration& in, TokenAction action)
{
    switch (in.kind) {
    case core::Kind::pit:
        return pit_steps(in, action);
    case core::Kind::partner_key:
    case core::Kind::practice_key:
        return hint_steps(in, action);
    case core::Kind::oauth_app:
        return "LeadConnector marketplace app (client id " + shown(in.client_id) + "): its " +
               (action == TokenAction::create ? "client secret.\n" : "new client secret.\n") + numbered({k_paste});
    case core::Kind::oauth:
        break;
    }
    return {};
}

bool shows_token_steps(const Context& ctx, bool token_stdin, const std::string& token_file)
{
    return !token_stdin && token_file.empty() && !ctx.opts.quiet && !ctx.opts.json && ctx.prompt.stdin_is_terminal() &&
           ctx.prompt.available();
}

void print_token_steps(Context& ctx, const core::Integration& in, TokenAction action)
{
    const std::string steps = token_steps(in, action);
    if (!steps.empty()) ctx.err << steps << "\n" << std::flush;
}

} // namespace pitool::cli
