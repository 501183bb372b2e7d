// Reader for the PyTorch reference files in tests/reference/ (written by scripts/gen_reference.py).
//
//   ctnn_test::reference ref{ctnn_test::reference_path("forward.txt")};
//   const auto& w = ref.get("a.f32.0.weight");   // w.shape == {7, 3}, w.values row-major
//
// File format, one record per line ('#' lines and blank lines are ignored):
//
//   <name> <dtype> <rank> <d0> ... <d(rank-1)> : <v0> <v1> ...
//
// dtype is f32 or f64. Values may be inf, -inf or nan. f32 values are parsed as float, so
// record::values holds exactly the float32 values PyTorch had (widened to double).
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace ctnn_test {

struct record {
  std::string name;
  std::string dtype;                // "f32" or "f64"
  std::vector<std::size_t> shape;   // empty for a scalar
  std::vector<double> values;       // row-major, shape product elements

  [[nodiscard]] std::size_t size() const noexcept { return values.size(); }
  [[nodiscard]] std::size_t rank() const noexcept { return shape.size(); }

  // The values converted to T (exact for T = float on an f32 record, or T = double).
  template <class T>
  [[nodiscard]] std::vector<T> as() const {
    return std::vector<T>(values.begin(), values.end());
  }
};

namespace detail {

// Parses one number: decimal or exponent form, inf, -inf, nan (any case). Returns false on
// anything else, including trailing characters.
template <class T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  const bool neg = s.front() == '-';
  std::string_view body = (neg || s.front() == '+') ? s.substr(1) : s;
  auto iequals = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != b[i]) return false;
    }
    return true;
  };
  if (iequals(body, "inf") || iequals(body, "infinity")) {
    out = neg ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    return true;
  }
  if (iequals(body, "nan")) {
    out = std::numeric_limits<T>::quiet_NaN();
    return true;
  }
  if (body.empty() || !((body.front() >= '0' && body.front() <= '9') || body.front() == '.'))
    return false;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  T v{};
  auto [ptr, ec] = std::from_chars(s.data() + (s.front() == '+' ? 1 : 0), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return false;
  out = v;
  return true;
#else
  // Fallback for standard libraries without floating-point from_chars. strtod is locale
  // dependent; the C locale (the default for a program that never calls setlocale) is assumed.
  std::string tmp(s);
  char* end = nullptr;
  T v{};
  if constexpr (std::is_same_v<T, float>)
    v = std::strtof(tmp.c_str(), &end);
  else
    v = static_cast<T>(std::strtod(tmp.c_str(), &end));
  if (end != tmp.c_str() + tmp.size() || std::isinf(v)) return false;  // trailing junk, overflow
  out = v;
  return true;
#endif
}

inline bool parse_size(std::string_view s, std::size_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

}  // namespace detail

class reference {
 public:
  explicit reference(std::filesystem::path path) : path_(std::move(path)) {
    std::ifstream in(path_);
    if (!in) throw std::runtime_error("reference: cannot open '" + path_.string() + "'");
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;
      parse_line(line, line_no);
    }
    if (in.bad()) throw std::runtime_error("reference: error reading '" + path_.string() + "'");
  }

  [[nodiscard]] bool contains(std::string_view name) const {
    return records_.find(name) != records_.end();
  }

  [[nodiscard]] const record& get(std::string_view name) const {
    auto it = records_.find(name);
    if (it == records_.end())
      throw std::runtime_error("reference: no record '" + std::string(name) + "' in '" +
                               path_.string() + "'");
    return it->second;
  }

  [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  // All records by name, in name order.
  [[nodiscard]] const std::map<std::string, record, std::less<>>& records() const noexcept {
    return records_;
  }

 private:
  [[noreturn]] void fail(std::size_t line_no, const std::string& what) const {
    throw std::runtime_error(path_.string() + ":" + std::to_string(line_no) +
                             ": malformed reference record: " + what);
  }

  void parse_line(const std::string& line, std::size_t line_no) {
    std::istringstream ss(line);
    record r;
    std::string tok;
    if (!(ss >> r.name)) fail(line_no, "missing name");
    if (!(ss >> r.dtype)) fail(line_no, "missing dtype for '" + r.name + "'");
    if (r.dtype != "f32" && r.dtype != "f64")
      fail(line_no, "dtype '" + r.dtype + "' of '" + r.name + "' is neither f32 nor f64");

    std::size_t rank = 0;
    if (!(ss >> tok) || !detail::parse_size(tok, rank) || rank > 8)
      fail(line_no, "bad rank '" + tok + "' for '" + r.name + "'");
    std::size_t count = 1;
    for (std::size_t i = 0; i < rank; ++i) {
      std::size_t d = 0;
      if (!(ss >> tok) || tok == ":" || !detail::parse_size(tok, d))
        fail(line_no, "expected " + std::to_string(rank) + " dimensions for '" + r.name + "'");
      r.shape.push_back(d);
      count *= d;
    }
    if (!(ss >> tok) || tok != ":")
      fail(line_no, "expected ':' after the shape of '" + r.name + "'");

    r.values.reserve(count);
    const bool f32 = r.dtype == "f32";
    while (ss >> tok) {
      bool ok = false;
      if (f32) {
        float v{};
        ok = detail::parse_number(tok, v);
        r.values.push_back(v);
      } else {
        double v{};
        ok = detail::parse_number(tok, v);
        r.values.push_back(v);
      }
      if (!ok)
        fail(line_no, "bad value '" + tok + "' (#" + std::to_string(r.values.size() - 1) +
                          ") in '" + r.name + "'");
    }
    if (r.values.size() != count)
      fail(line_no, "'" + r.name + "' has " + std::to_string(r.values.size()) +
                        " values, its shape needs " + std::to_string(count));

    std::string name = r.name;
    if (!records_.emplace(std::move(name), std::move(r)).second)
      fail(line_no, "duplicate record '" + line.substr(0, line.find_first_of(" \t")) + "'");
  }

  std::filesystem::path path_;
  std::map<std::string, record, std::less<>> records_;
};

// Directory of the reference files: CTNN_REFERENCE_DIR when the build defines it (the tests are
// compiled with -DCTNN_REFERENCE_DIR="<abs path>"), else tests/reference next to this header.
inline std::string reference_dir() {
#ifdef CTNN_REFERENCE_DIR
  return std::string(CTNN_REFERENCE_DIR);
#else
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "reference").string();
#endif
}

// reference_path("forward.txt") -> "<reference dir>/forward.txt"
inline std::string reference_path(std::string_view file) {
  return (std::filesystem::path(reference_dir()) / std::filesystem::path(file)).string();
}

}  // namespace ctnn_test
