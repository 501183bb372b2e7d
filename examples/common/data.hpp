#pragma once
// Data helpers shared by ctnn's examples: where the data and the outputs are, a stratified split
// into train / validation / test, and feature standardization fitted on the training rows.
#include <ctnn/core/random.hpp>
#include <ctnn/train/dataset.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#ifndef CTNN_EXAMPLES_DATA_DIR
#define CTNN_EXAMPLES_DATA_DIR "data"
#endif
#ifndef CTNN_EXAMPLES_OUTPUT_DIR
#define CTNN_EXAMPLES_OUTPUT_DIR "."
#endif

namespace examples {

// data/<name> of the repository; the environment variable CTNN_DATA_DIR overrides the directory.
inline std::string data_file(const std::string& name) {
    const char* dir = std::getenv("CTNN_DATA_DIR");
    return std::string(dir ? dir : CTNN_EXAMPLES_DATA_DIR) + "/" + name;
}
// Where the examples write their plots: the build directory of the examples, or CTNN_OUTPUT_DIR.
inline std::string output_file(const std::string& name) {
    const char* dir = std::getenv("CTNN_OUTPUT_DIR");
    return std::string(dir ? dir : CTNN_EXAMPLES_OUTPUT_DIR) + "/" + name;
}

// Rows of each class dealt into train, validation and test in the given proportions (per class,
// after a seeded shuffle), so each part has the classes' proportions of the whole.
struct split {
    std::vector<std::size_t> train, validation, test;
};
inline split stratified_split(const std::vector<int>& labels, int classes, double validation_fraction,
                              double test_fraction, std::uint64_t seed) {
    ctnn::rng generator{seed};
    split s;
    for (int c = 0; c < classes; ++c) {
        std::vector<std::size_t> rows;
        for (std::size_t i = 0; i < labels.size(); ++i)
            if (labels[i] == c) rows.push_back(i);
        ctnn::shuffle(std::span(rows), generator);
        const auto n = static_cast<double>(rows.size());
        const auto n_test = static_cast<std::size_t>(std::lround(n * test_fraction));
        const auto n_val = static_cast<std::size_t>(std::lround(n * validation_fraction));
        for (std::size_t k = 0; k < rows.size(); ++k)
            (k < n_test ? s.test : k < n_test + n_val ? s.validation : s.train).push_back(rows[k]);
    }
    // Interleave the classes (the rows were appended class by class).
    for (auto* part : {&s.train, &s.validation, &s.test}) ctnn::shuffle(std::span(*part), generator);
    return s;
}

// The given rows of a row-major table of `width` columns.
template <class T>
std::vector<T> rows_of(const std::vector<T>& table, std::size_t width, const std::vector<std::size_t>& rows) {
    std::vector<T> out;
    out.reserve(rows.size() * width);
    for (std::size_t r : rows)
        for (std::size_t c = 0; c < width; ++c) out.push_back(table[r * width + c]);
    return out;
}

// Per-feature (x - mean) / standard deviation, with the statistics of the training rows only.
struct standardizer {
    std::vector<float> mean, scale;
    standardizer(const std::vector<float>& x, std::size_t width) : mean(width, 0.f), scale(width, 1.f) {
        const std::size_t n = x.size() / width;
        for (std::size_t c = 0; c < width; ++c) {
            double sum = 0, sq = 0;
            for (std::size_t r = 0; r < n; ++r) sum += x[r * width + c];
            const double m = sum / static_cast<double>(n);
            for (std::size_t r = 0; r < n; ++r) sq += (x[r * width + c] - m) * (x[r * width + c] - m);
            const double sd = std::sqrt(sq / static_cast<double>(n));
            mean[c] = static_cast<float>(m);
            scale[c] = sd > 0 ? static_cast<float>(1 / sd) : 1.f;
        }
    }
    void apply(std::vector<float>& x) const {
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = (x[i] - mean[i % mean.size()]) * scale[i % mean.size()];
    }
    float apply(float v, std::size_t column) const { return (v - mean[column]) * scale[column]; }
};

}  // namespace examples
