#include "cli/net_loader.hpp"

#include "pitool/http/module_abi.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#ifndef PITOOL_NET_INSTALL_DIR
#define PITOOL_NET_INSTALL_DIR "/usr/local/libexec/pitool"
#endif
#ifndef PITOOL_NET_RELATIVE_DIR
#define PITOOL_NET_RELATIVE_DIR "../libexec/pitool"
#endif

namespace pitool::cli {
namespace {

namespace fs = std::filesystem;

/// Where the module may be, in order: where an installed pitool keeps it
/// relative to its own binary (bin/../libexec/pitool, whatever the prefix),
/// beside the binary (a build tree), then the directory configured at build time.
std::vector<std::string> candidates()
{
    std::vector<std::string> out;
    auto add = [&out](const fs::path& p) {
        const std::string s = p.lexically_normal().string();
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    };
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && self.has_parent_path()) {
        add(self.parent_path() / PITOOL_NET_RELATIVE_DIR / http::k_net_module_file);
        add(self.parent_path() / http::k_net_module_file);
    }
    add(fs::path(PITOOL_NET_INSTALL_DIR) / http::k_net_module_file);
    return out;
}

bool same_abi(const http::NetAbi& a, const http::NetAbi& b) noexcept
{
    return a.abi_version == b.abi_version && a.client_options_size == b.client_options_size &&
           a.request_size == b.request_size && a.response_size == b.response_size &&
           a.batch_options_size == b.batch_options_size && a.pitool_version != nullptr &&
           std::strcmp(a.pitool_version, b.pitool_version) == 0;
}

std::string one_line(const char* text)
{
    std::string s = text != nullptr ? text : "unknown error";
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}

struct Module {
    http::NetMakeClientFn make_client = nullptr;
};

/// dlopen()s the first module found and checks it; the result is cached.
Result<Module> load_module()
{
    std::string tried;
    for (const auto& path : candidates()) {
        if (::access(path.c_str(), F_OK) != 0) {
            tried += (tried.empty() ? "" : ", ") + path;
            continue;
        }
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr)
            return make_error(Errc::unavailable, "cannot load the network module " + path + ": " +
                                                     one_line(::dlerror()) + " (reinstall pitool)");
        auto abi = reinterpret_cast<http::NetAbiFn>(::dlsym(handle, http::k_net_abi_symbol));
        auto make = reinterpret_cast<http::NetMakeClientFn>(::dlsym(handle, http::k_net_make_client_symbol));
        const http::NetAbi expected = http::this_net_abi();
        if (abi == nullptr || make == nullptr || !same_abi(*abi(), expected)) {
            ::dlclose(handle);
            return make_error(Errc::unavailable, "the network module " + path +
                                                     " does not match this pitool " PITOOL_VERSION
                                                     " (reinstall pitool)");
        }
        return Module{make}; // the module stays loaded for the life of the process
    }
    return make_error(Errc::unavailable,
                      "network commands need pitool's network module, not found (looked for " + tried + ")");
}

} // namespace

Result<std::unique_ptr<http::Client>> load_network_client(const http::ClientOptions& options)
{
    static std::once_flag once;
    static std::optional<Result<Module>> loaded;
    std::call_once(once, [] { loaded = load_module(); });
    if (!*loaded) return loaded->error();
    std::unique_ptr<http::Client> client(loaded->value().make_client(&options));
    if (!client) return make_error(Errc::internal, "out of memory");
    return client;
}

} // namespace pitool::cli
