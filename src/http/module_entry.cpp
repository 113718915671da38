// The network module's two entry points (see pitool/http/module_abi.hpp).
// Built as the MODULE library pitool-net.so together with the libcurl client;
// everything else in it is hidden (-fvisibility=hidden, --exclude-libs).

#include "pitool/http/client.hpp"
#include "pitool/http/module_abi.hpp"

#include <new>

namespace {

constexpr pitool::http::NetAbi k_abi = pitool::http::this_net_abi();

} // namespace

extern "C" __attribute__((visibility("default"))) const pitool::http::NetAbi* pitool_net_abi()
{
    return &k_abi;
}

extern "C" __attribute__((visibility("default"))) pitool::http::Client*
pitool_net_make_client(const pitool::http::ClientOptions* options)
{
    if (options == nullptr) return nullptr;
    try {
        return pitool::http::make_curl_client(*options).release();
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
