#pragma once
// CSV loading for ctnn's examples (not part of the library, which reads no text formats).
//
//   examples::csv_table t = examples::read_csv("data/iris.csv", {.header_lines = 1, .columns = 5});
//   examples::labelled_data d = examples::read_labelled("data/iris.csv", 4, 3, {.header_lines = 1});
//
// Numbers separated by commas, one row per line; blank lines are skipped; a line may end in \r.
// Every error is an examples::csv_error whose message starts with "file:line:" and says what is
// wrong, e.g. "data/iris.csv:7: expected 5 columns, found 4" or
// "data/iris.csv:12: column 3: 'abc' is not a number".
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

struct csv_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct csv_options {
    std::size_t header_lines = 0;  // lines skipped at the top (not parsed)
    std::size_t columns = 0;       // 0: taken from the first data row; then every row must match
};

struct csv_table {
    std::size_t columns = 0;
    std::vector<double> values;  // row-major, rows() * columns
    std::vector<std::size_t> lines;  // the file line of each row, for messages
    std::size_t rows() const { return columns == 0 ? 0 : values.size() / columns; }
    double at(std::size_t row, std::size_t col) const { return values[row * columns + col]; }
};

namespace detail {

inline std::string where(const std::string& path, std::size_t line) { return path + ":" + std::to_string(line) + ": "; }

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

inline double parse_number(std::string_view field, const std::string& path, std::size_t line, std::size_t column) {
    const std::string text{trim(field)};
    if (text.empty())
        throw csv_error(where(path, line) + "column " + std::to_string(column) + " is empty");
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size())
        throw csv_error(where(path, line) + "column " + std::to_string(column) + ": '" + text + "' is not a number");
    if (errno == ERANGE && std::isinf(v))
        throw csv_error(where(path, line) + "column " + std::to_string(column) + ": '" + text + "' is out of range");
    if (!std::isfinite(v))
        throw csv_error(where(path, line) + "column " + std::to_string(column) + ": '" + text + "' is not finite");
    return v;
}

}  // namespace detail

inline csv_table read_csv(const std::string& path, csv_options options = {}) {
    std::ifstream in(path);
    if (!in) throw csv_error(path + ": cannot open the file");
    csv_table t;
    t.columns = options.columns;
    std::string text;
    std::size_t line = 0;
    while (std::getline(in, text)) {
        ++line;
        if (line <= options.header_lines) continue;
        if (detail::trim(text).empty()) continue;
        std::size_t count = 0;
        std::string_view rest{text};
        for (;;) {
            const std::size_t comma = rest.find(',');
            const std::string_view field = rest.substr(0, comma);
            ++count;
            if (t.columns != 0 && count > t.columns)
                throw csv_error(detail::where(path, line) + "expected " + std::to_string(t.columns) +
                                " columns, found more");
            t.values.push_back(detail::parse_number(field, path, line, count));
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        if (t.columns == 0) t.columns = count;
        if (count != t.columns)
            throw csv_error(detail::where(path, line) + "expected " + std::to_string(t.columns) + " columns, found " +
                            std::to_string(count));
        t.lines.push_back(line);
    }
    if (in.bad()) throw csv_error(path + ": read error after line " + std::to_string(line));
    if (t.values.empty()) throw csv_error(path + ": no data rows");
    return t;
}

// Rows of `features` numbers followed by one class index (a whole number in [0, classes)).
struct labelled_data {
    std::size_t features = 0;
    std::vector<float> x;   // rows() * features
    std::vector<int> labels;
    std::size_t rows() const { return labels.size(); }
};

inline labelled_data read_labelled(const std::string& path, std::size_t features, std::size_t classes,
                                   csv_options options = {}) {
    options.columns = features + 1;
    const csv_table t = read_csv(path, options);
    labelled_data d;
    d.features = features;
    d.x.reserve(t.rows() * features);
    d.labels.reserve(t.rows());
    for (std::size_t r = 0; r < t.rows(); ++r) {
        for (std::size_t f = 0; f < features; ++f) d.x.push_back(static_cast<float>(t.at(r, f)));
        const double c = t.at(r, features);
        if (c != std::floor(c) || c < 0 || c >= static_cast<double>(classes))
            throw csv_error(detail::where(path, t.lines[r]) + "column " + std::to_string(features + 1) + ": class " +
                            std::to_string(c) + " is not a whole number in [0, " + std::to_string(classes) + ")");
        d.labels.push_back(static_cast<int>(c));
    }
    return d;
}

}  // namespace examples
