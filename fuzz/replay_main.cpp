// Corpus replay without libFuzzer: a main() that feeds every file of a
// corpus directory to the target's LLVMFuzzerTestOneInput once, in name
// order, so each fuzz target's seeds (and the crashes they once were) run as
// an ordinary ctest test in the dev and asan builds (fuzz/replay.cmake).
// An invariant that breaks aborts, as it would under libFuzzer.
//
// Usage: <target>_replay CORPUS_DIR [FILE...]   (files: replay only these)

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional in a target (libFuzzer calls it once before the first input).
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR [FILE...]\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
    namespace fs = std::filesystem;
    std::vector<fs::path> inputs;
    for (int i = 2; i < argc; ++i) inputs.emplace_back(argv[i]);
    if (inputs.empty()) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(argv[1], ec))
            if (e.is_regular_file()) inputs.push_back(e.path());
        if (ec) {
            std::fprintf(stderr, "cannot read corpus %s: %s\n", argv[1], ec.message().c_str());
            return 2;
        }
        std::sort(inputs.begin(), inputs.end());
    }
    if (inputs.empty()) {
        // An empty corpus would make this test pass while proving nothing.
        std::fprintf(stderr, "corpus %s holds no file\n", argv[1]);
        return 2;
    }
    for (const auto& p : inputs) {
        std::ifstream in(p, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "cannot read %s\n", p.c_str());
            return 2;
        }
        const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        std::fprintf(stderr, "replay %s (%zu bytes)\n", p.filename().c_str(), bytes.size());
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("replayed %zu inputs from %s\n", inputs.size(), argv[1]);
    return 0;
}
