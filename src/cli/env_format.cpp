#include "cli/env_format.hpp"

#include "pitool/core/model.hpp"

#include <set>

namespace pitool::cli {

std::string variable_of(std::string_view name)
{
    std::string v;
    if (!name.empty() && name[0] >= '0' && name[0] <= '9') v += '_';
    for (char c : name) {
        if (c >= 'a' && c <= 'z')
            v += static_cast<char>(c - 'a' + 'A');
        else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            v += c;
        else
            v += '_';
    }
    return v;
}

std::string name_of(std::string_view variable)
{
    if (variable.size() > 1 && variable[0] == '_' && variable[1] >= '0' && variable[1] <= '9')
        variable.remove_prefix(1);
    std::string n;
    for (char c : variable) {
        if (c >= 'A' && c <= 'Z')
            n += static_cast<char>(c - 'A' + 'a');
        else if (c == '_')
            n += '-';
        else
            n += c;
    }
    return n;
}

bool valid_variable(std::string_view s) noexcept
{
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

Result<std::map<std::string, std::string, std::less<>>> parse_name_overrides(const std::vector<std::string>& given)
{
    std::map<std::string, std::string, std::less<>> out;
    std::set<std::string, std::less<>> names;
    for (const auto& g : given) {
        const auto eq = g.find('=');
        if (eq == std::string::npos)
            return make_error(Errc::usage, "--name takes VAR=NAME (a variable, '=', an integration name)");
        std::string var = g.substr(0, eq);
        std::string name = g.substr(eq + 1);
        if (!valid_variable(var))
            return make_error(Errc::usage, "--name: the variable must match [A-Za-z_][A-Za-z0-9_]*");
        if (auto st = core::validate_name(name); !st) return make_error(Errc::usage, "--name: " + st.error().message);
        if (out.count(var) != 0) return make_error(Errc::usage, "--name: variable " + var + " given twice");
        if (!names.insert(name).second) return make_error(Errc::usage, "--name: name '" + name + "' given twice");
        out.emplace(std::move(var), std::move(name));
    }
    return out;
}

} // namespace pitool::cli
