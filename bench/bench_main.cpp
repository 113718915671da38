/// pitool-bench: micro-benchmarks of the layers under the CLI (crypto, payload
/// codec, vault file, lookup, audit). See docs/performance.md for a run and
/// how to read it. Whole-process comparisons live in bench/bench-peers.sh.
///
/// Sizes are "number of integrations" unless the name says bytes. Every
/// integration holds at least one token in libsodium guarded memory (one
/// sodium_malloc mapping each), so sizes whose payload cannot be held report
/// an error instead of a figure (see SkipWithError below).
#include "generate.hpp"

#include "pitool/vault/legacy_payload.hpp"
#include "pitool/core/lifecycle.hpp"
#include "pitool/crypto/crypto.hpp"
#include "pitool/vault/vault.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <unistd.h>

namespace pb = pitool::bench;
namespace core = pitool::core;
namespace crypto = pitool::crypto;
namespace vault = pitool::vault;
namespace fs = std::filesystem;

namespace {

constexpr long k_kib = 1024;
constexpr long k_mib = 1024 * 1024;
constexpr const char* k_no_guarded_memory =
    "sodium_malloc failed: too many guarded allocations (one per token; vm.max_map_count)";

void size_args(benchmark::internal::Benchmark* b)
{
    for (long n : {1L, 10L, 100L, 1000L, 10000L, 100000L}) b->Arg(n);
}

/// The payload of the size being measured, built once and shared by the
/// benchmarks that only read it (generating 10k integrations takes a second).
/// Only one size is kept: each token is a sodium_malloc mapping with guard
/// pages and the kernel's vm.max_map_count (65530 by default) caps how many a
/// process can hold, so keeping every size would exhaust it.
std::size_t cached_n = 0;
std::unique_ptr<core::Payload> cached;

/// Frees the shared payload's guarded memory before a benchmark that makes its own.
void release_shared_payload()
{
    cached.reset();
}

const core::Payload* shared_payload(std::size_t n, std::string& error)
{
    static std::map<std::size_t, std::string> failed;
    if (cached && cached_n == n) return cached.get();
    if (auto it = failed.find(n); it != failed.end()) {
        error = it->second;
        return nullptr;
    }
    cached.reset();
    try {
        cached = std::make_unique<core::Payload>(pb::make_payload(n));
        cached_n = n;
        return cached.get();
    } catch (const std::bad_alloc&) {
        error = failed[n] = k_no_guarded_memory;
        return nullptr;
    }
}

/// A private temporary directory, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "pitool-bench.XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

// --- crypto ----------------------------------------------------------------

void BM_Seal(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    pitool::Secret key = crypto::random_key();
    std::vector<std::uint8_t> plain(n, 0x5a);
    std::array<std::uint8_t, crypto::k_nonce_bytes> nonce{};
    crypto::random_bytes(nonce);
    for (auto _ : state) {
        auto sealed = crypto::seal(plain, nonce, {}, key);
        benchmark::DoNotOptimize(sealed.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Seal)->RangeMultiplier(8)->Range(k_kib, 64 * k_mib)->Unit(benchmark::kMicrosecond);

void BM_Open(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    pitool::Secret key = crypto::random_key();
    std::vector<std::uint8_t> plain(n, 0x5a);
    std::array<std::uint8_t, crypto::k_nonce_bytes> nonce{};
    crypto::random_bytes(nonce);
    auto sealed = crypto::seal(plain, nonce, {}, key);
    for (auto _ : state) {
        auto opened = crypto::open(sealed, nonce, {}, key);
        if (!opened) {
            state.SkipWithError("open failed");
            break;
        }
        benchmark::DoNotOptimize(opened->data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Open)->RangeMultiplier(8)->Range(k_kib, 64 * k_mib)->Unit(benchmark::kMicrosecond);

/// Argon2id at libsodium's levels. Arg: 0 interactive, 1 moderate, 2 sensitive.
void BM_Kdf(benchmark::State& state)
{
    const auto level = static_cast<crypto::KdfLevel>(state.range(0));
    const auto params = crypto::params_for(level);
    state.SetLabel(std::string(crypto::to_string(level)) + " ops=" + std::to_string(params.opslimit) +
                   " mem=" + std::to_string(params.memlimit / k_mib) + "MiB");
    pitool::Secret pass = pitool::Secret::from("correct horse battery staple");
    std::array<std::uint8_t, crypto::k_salt_bytes> salt{};
    crypto::random_bytes(salt);
    for (auto _ : state) {
        auto k = crypto::derive_key(pass, salt, params);
        if (!k) {
            state.SkipWithError("derive_key failed (memory?)");
            break;
        }
        benchmark::DoNotOptimize(k->data());
    }
}
BENCHMARK(BM_Kdf)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();

/// One token-sized Secret: sodium_malloc (mmap, guard pages, mlock) and
/// sodium_free. Every token decoded from the vault pays this once.
void BM_SecretAlloc(benchmark::State& state)
{
    for (auto _ : state) {
        pitool::Secret s = pitool::Secret::from("pit-00000000-0000-0000-0000-000000000000");
        benchmark::DoNotOptimize(s.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SecretAlloc)->Unit(benchmark::kMicrosecond);

// --- payload codec -----------------------------------------------------------

void BM_Generate(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    release_shared_payload();
    for (auto _ : state) {
        try {
            auto p = pb::make_payload(n);
            benchmark::DoNotOptimize(p.integrations.data());
        } catch (const std::bad_alloc&) {
            state.SkipWithError(k_no_guarded_memory);
            break;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Generate)->Apply(size_args)->Unit(benchmark::kMillisecond);

void BM_Encode(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    std::string err;
    const core::Payload* p = shared_payload(n, err);
    if (p == nullptr) {
        state.SkipWithError(err.c_str());
        return;
    }
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto text = vault::legacy::encode_payload(*p);
        bytes = text.size();
        benchmark::DoNotOptimize(text.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["json_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Encode)->Apply(size_args)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    std::string err;
    const core::Payload* p = shared_payload(n, err);
    if (p == nullptr) {
        state.SkipWithError(err.c_str());
        return;
    }
    auto text = vault::legacy::encode_payload(*p);
    // Decoding makes a second set of guarded tokens; free the first so the
    // process holds one payload, as `pitool get` does.
    release_shared_payload();
    for (auto _ : state) {
        try {
            auto decoded = vault::legacy::decode_payload(std::string_view(text.data(), text.size()));
            if (!decoded) {
                state.SkipWithError("decode failed");
                break;
            }
            benchmark::DoNotOptimize(decoded->integrations.data());
        } catch (const std::bad_alloc&) {
            state.SkipWithError(k_no_guarded_memory);
            break;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Decode)->Apply(size_args)->Unit(benchmark::kMillisecond);

// --- vault file ---------------------------------------------------------------

/// A vault of `n` integrations in a temp dir, created with the interactive KDF
/// (paid once, outside the timing); open/save below never run the KDF.
struct VaultFixture {
    TempDir dir;
    std::unique_ptr<vault::FileStorage> storage;
    std::optional<vault::Vault> v;
    std::string error;

    explicit VaultFixture(std::size_t n)
    {
        release_shared_payload();
        storage = std::make_unique<vault::FileStorage>(dir.path / "vault");
        try {
            auto lock = storage->lock(std::chrono::seconds(10));
            if (!lock) {
                error = "lock: " + lock.error().message;
                return;
            }
            pitool::Secret pass = pitool::Secret::from("bench passphrase");
            auto created = vault::Vault::create(*storage, pass, crypto::params_for(crypto::KdfLevel::interactive));
            if (!created) {
                error = "create: " + created.error().message;
                return;
            }
            // Staged one by one, as `pitool import` does: never n tokens in memory.
            for (std::size_t i = 0; i < n; ++i) {
                if (auto st = created->stage(pb::make_integration(i)); !st) {
                    error = "stage: " + st.error().message;
                    return;
                }
            }
            if (auto st = created->save(); !st) {
                error = "save: " + st.error().message;
                return;
            }
            v.emplace(std::move(created).value());
        } catch (const std::bad_alloc&) {
            error = k_no_guarded_memory;
        }
    }
};

void BM_VaultOpen(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    VaultFixture f(n);
    if (!f.v) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    pitool::Secret key = f.v->data_key().clone();
    f.v.reset(); // only the reopened copy in memory, as in a CLI process
    const auto file_bytes = fs::file_size(f.storage->path());
    for (auto _ : state) {
        try {
            auto opened = vault::Vault::open_with_key(*f.storage, key);
            if (!opened) {
                state.SkipWithError(("open: " + opened.error().message).c_str());
                break;
            }
            benchmark::DoNotOptimize(opened->payload().integrations.data());
        } catch (const std::bad_alloc&) {
            state.SkipWithError(k_no_guarded_memory);
            break;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_bytes));
    state.counters["file_bytes"] = static_cast<double>(file_bytes);
}
BENCHMARK(BM_VaultOpen)->Apply(size_args)->Unit(benchmark::kMillisecond)->UseRealTime();

/// What `get` does after start-up: open (header + index), then one record
/// with its secrets.
void BM_VaultGetOne(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    VaultFixture f(n);
    if (!f.v) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    pitool::Secret key = f.v->data_key().clone();
    f.v.reset();
    const std::string name = pb::integration_name(n / 2);
    for (auto _ : state) {
        auto opened = vault::Vault::open_with_key(*f.storage, key);
        if (!opened || !opened->load(name, /*secrets=*/true) || opened->payload().find(name) == nullptr) {
            state.SkipWithError("get failed");
            break;
        }
        benchmark::DoNotOptimize(opened->payload().integrations.data());
    }
}
BENCHMARK(BM_VaultGetOne)->Apply(size_args)->Unit(benchmark::kMillisecond)->UseRealTime();

/// What `list` and `audit` read: every record's metadata, no token.
void BM_VaultLoadAllMetadata(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    VaultFixture f(n);
    if (!f.v) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    pitool::Secret key = f.v->data_key().clone();
    f.v.reset();
    for (auto _ : state) {
        auto opened = vault::Vault::open_with_key(*f.storage, key);
        if (!opened || !opened->load_all(/*secrets=*/false)) {
            state.SkipWithError("load_all failed");
            break;
        }
        benchmark::DoNotOptimize(opened->payload().integrations.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_VaultLoadAllMetadata)->Apply(size_args)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Seal + write temp + fsync + backup link + rename + fsync dir.
void BM_VaultSave(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    VaultFixture f(n);
    if (!f.v) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    auto lock = f.storage->lock(std::chrono::seconds(10));
    if (!lock) {
        state.SkipWithError("lock failed");
        return;
    }
    const auto file_bytes = fs::file_size(f.storage->path());
    // One record changed per save, as a rotate: it is re-sealed, every other
    // box is copied.
    const std::string name = pb::integration_name(n / 2);
    for (auto _ : state) {
        if (auto st = f.v->load(name, /*secrets=*/true); !st || f.v->payload().find(name) == nullptr) {
            state.SkipWithError("load failed");
            break;
        }
        f.v->payload().find(name)->description += "x";
        if (auto st = f.v->save(); !st) {
            state.SkipWithError(("save: " + st.error().message).c_str());
            break;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file_bytes));
    state.counters["file_bytes"] = static_cast<double>(file_bytes);
}
BENCHMARK(BM_VaultSave)->Apply(size_args)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- queries -------------------------------------------------------------------

/// Payload::find by name, cycling over names spread through the payload (a
/// linear scan today: the average case is half the integrations).
void BM_Lookup(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    std::string err;
    const core::Payload* p = shared_payload(n, err);
    if (p == nullptr) {
        state.SkipWithError(err.c_str());
        return;
    }
    std::vector<std::string> names;
    for (std::size_t k = 0; k < 64; ++k) names.push_back(pb::integration_name((k * 7919) % n));
    std::size_t k = 0;
    for (auto _ : state) {
        const core::Integration* in = p->find(names[k++ % names.size()]);
        if (in == nullptr) {
            state.SkipWithError("name not found");
            break;
        }
        benchmark::DoNotOptimize(in);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Lookup)->Apply(size_args)->Unit(benchmark::kMicrosecond);

/// What `pitool audit` does after opening: assess every integration against
/// the 90-day policy, and what reads do for rotation windows.
void BM_Audit(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    std::string err;
    const core::Payload* p = shared_payload(n, err);
    if (p == nullptr) {
        state.SkipWithError(err.c_str());
        return;
    }
    const core::Policy policy;
    const pitool::Timestamp now = pb::GenOptions{}.now;
    std::size_t failing = 0;
    for (auto _ : state) {
        std::vector<core::Finding> findings;
        findings.reserve(p->integrations.size());
        failing = 0;
        for (const auto& in : p->integrations) {
            findings.push_back(core::assess(in, now, policy));
            const auto v = findings.back().verdict;
            if (v == core::Verdict::due || v == core::Verdict::expired) ++failing;
            benchmark::DoNotOptimize(core::window_open(in, now));
        }
        benchmark::DoNotOptimize(findings.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
    state.counters["due"] = static_cast<double>(failing);
}
BENCHMARK(BM_Audit)->Apply(size_args)->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char** argv)
{
    if (!crypto::init()) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
