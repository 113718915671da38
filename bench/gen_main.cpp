/// pitool-bench-gen N [--seed S]: prints N synthetic integrations as JSON
/// lines in the `pitool import` input format (see generate.hpp), e.g.
///   pitool-bench-gen 100000 | pitool import
#include "generate.hpp"

#include "pitool/crypto/crypto.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    auto usage = [] {
        std::cerr << "usage: pitool-bench-gen N [--seed S]\n"
                     "Prints N synthetic LeadConnector PIT integrations (fake tokens) as JSON lines\n"
                     "for `pitool import`.\n";
        return 2;
    };
    if (argc != 2 && argc != 4) return usage();
    pitool::bench::GenOptions o;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || n > 10'000'000ULL) return usage();
    if (argc == 4) {
        if (std::string(argv[2]) != "--seed") return usage();
        o.seed = std::strtoull(argv[3], &end, 10);
        if (*end != '\0') return usage();
    }
    if (!pitool::crypto::init()) return 1; // make_token hashes with libsodium
    std::ios::sync_with_stdio(false);
    for (unsigned long long i = 0; i < n; ++i)
        std::cout << pitool::bench::import_line(pitool::bench::make_integration(i, o)) << '\n';
    std::cout.flush();
    return std::cout ? 0 : 1;
}
