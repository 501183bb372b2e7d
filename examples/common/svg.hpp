#pragma once
// A small SVG plot writer for ctnn's examples: line charts (training curves, fitted functions),
// scatter points, and 2-D decision regions under them; several charts side by side in one file.
//
//   examples::svg::chart c{.title = "loss", .xlabel = "epoch", .ylabel = "cross-entropy", .log_y = true};
//   c.line(epochs, train_loss, examples::svg::color(0), "train");
//   c.line(epochs, val_loss, examples::svg::color(1), "validation");
//   examples::svg::write("curves.svg", {c, accuracy_chart});
//
// Decision regions: c.regions = {nx, ny, x0, x1, y0, y1, classes} with classes[j * nx + i] the class
// at the centre of cell (i, j), j counting from the bottom; drawn in the light shades of the
// classes' colors, row by row in runs, so a 100 x 100 grid stays a small file.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples::svg {

// The ten colors of matplotlib's "tab10" cycle.
inline const char* color(std::size_t i) {
    static const char* const c[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    return c[i % 10];
}

struct series {
    std::vector<double> x, y;
    std::string color = "#1f77b4";
    std::string label;
    bool points = false;  // markers instead of a line
    double width = 2;     // line width, or marker radius
};

struct regions {
    std::size_t nx = 0, ny = 0;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    std::vector<int> classes;  // ny rows of nx, from the bottom row up
};

struct chart {
    std::string title, xlabel, ylabel;
    bool log_y = false;
    bool legend_bottom = false;  // the legend in the bottom right corner instead of the top right
    double ymin = std::numeric_limits<double>::quiet_NaN();  // NaN: from the data
    double ymax = std::numeric_limits<double>::quiet_NaN();
    std::vector<series> data{};
    struct regions regions{};

    void line(std::vector<double> x, std::vector<double> y, std::string c, std::string label, double width = 2) {
        data.push_back({std::move(x), std::move(y), std::move(c), std::move(label), false, width});
    }
    void points(std::vector<double> x, std::vector<double> y, std::string c, std::string label, double radius = 3) {
        data.push_back({std::move(x), std::move(y), std::move(c), std::move(label), true, radius});
    }
};

namespace detail {

inline std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}
inline std::string escape(const std::string& s) {
    std::string r;
    for (char ch : s) {
        if (ch == '<') r += "&lt;";
        else if (ch == '>') r += "&gt;";
        else if (ch == '&') r += "&amp;";
        else r += ch;
    }
    return r;
}
inline std::string tick_label(double v) {
    char b[32];
    if (v != 0 && (std::abs(v) < 1e-3 || std::abs(v) >= 1e5)) std::snprintf(b, sizeof b, "%.0e", v);
    else std::snprintf(b, sizeof b, "%g", v);
    return b;
}
// Ticks at 1, 2 or 5 times a power of ten, about `count` of them over [lo, hi].
inline std::vector<double> nice_ticks(double lo, double hi, int count = 5) {
    const double raw = (hi - lo) / count;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
    std::vector<double> t;
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
    return t;
}
// The 15 % tint of a #rrggbb color over white.
inline std::string tint(const std::string& c) {
    const unsigned long v = std::stoul(c.substr(1), nullptr, 16);
    char b[8];
    auto mix = [](unsigned long x) { return static_cast<unsigned>(255 - (255 - x) * 30 / 100); };
    std::snprintf(b, sizeof b, "#%02x%02x%02x", mix(v >> 16 & 255), mix(v >> 8 & 255), mix(v & 255));
    return b;
}

inline void draw(std::string& out, const chart& c, double ox, double w, double h) {
    const double left = ox + 64, right = ox + w - 16, top = 36, bottom = h - 48;
    double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
    auto fy = [&](double y) { return c.log_y ? std::log10(y) : y; };
    for (const series& s : c.data)
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || (c.log_y && s.y[i] <= 0)) continue;
            x0 = std::min(x0, s.x[i]);
            x1 = std::max(x1, s.x[i]);
            y0 = std::min(y0, fy(s.y[i]));
            y1 = std::max(y1, fy(s.y[i]));
        }
    if (c.regions.nx > 0) {
        x0 = c.regions.x0, x1 = c.regions.x1, y0 = c.regions.y0, y1 = c.regions.y1;
    }
    if (!std::isnan(c.ymin)) y0 = fy(c.ymin);
    if (!std::isnan(c.ymax)) y1 = fy(c.ymax);
    if (!(x1 > x0)) x0 -= 0.5, x1 += 0.5;
    if (!(y1 > y0)) y0 -= 0.5, y1 += 0.5;
    if (c.regions.nx == 0 && std::isnan(c.ymin) && std::isnan(c.ymax)) {  // a margin above and below
        const double m = (y1 - y0) * 0.05;
        y0 -= m, y1 += m;
    }
    auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (right - left); };
    auto py = [&](double y) { return bottom - (fy(y) - y0) / (y1 - y0) * (bottom - top); };
    auto py_raw = [&](double v) { return bottom - (v - y0) / (y1 - y0) * (bottom - top); };

    out += "<g font-family=\"sans-serif\" font-size=\"12\">\n";
    out += "<text x=\"" + num((left + right) / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" +
           escape(c.title) + "</text>\n";
    if (c.regions.nx > 0) {
        const regions& r = c.regions;
        const double cw = (right - left) / static_cast<double>(r.nx), ch = (bottom - top) / static_cast<double>(r.ny);
        for (std::size_t j = 0; j < r.ny; ++j)
            for (std::size_t i = 0; i < r.nx;) {
                std::size_t k = i;
                while (k < r.nx && r.classes[j * r.nx + k] == r.classes[j * r.nx + i]) ++k;
                out += "<rect x=\"" + num(left + static_cast<double>(i) * cw) + "\" y=\"" +
                       num(bottom - static_cast<double>(j + 1) * ch) + "\" width=\"" +
                       num(static_cast<double>(k - i) * cw + 0.5) + "\" height=\"" + num(ch + 0.5) + "\" fill=\"" +
                       tint(color(static_cast<std::size_t>(r.classes[j * r.nx + i]))) + "\"/>\n";
                i = k;
            }
    }
    // Axes, ticks and grid lines.
    out += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(right - left) + "\" height=\"" +
           num(bottom - top) + "\" fill=\"none\" stroke=\"#333\"/>\n";
    for (double t : nice_ticks(x0, x1)) {
        out += "<line x1=\"" + num(px(t)) + "\" x2=\"" + num(px(t)) + "\" y1=\"" + num(top) + "\" y2=\"" + num(bottom) +
               "\" stroke=\"#ddd\"/><text x=\"" + num(px(t)) + "\" y=\"" + num(bottom + 16) +
               "\" text-anchor=\"middle\">" + tick_label(t) + "</text>\n";
    }
    std::vector<double> yt;
    if (c.log_y) {
        for (double e = std::ceil(y0); e <= y1; e += 1) yt.push_back(e);
        if (yt.size() < 2) yt = nice_ticks(y0, y1, 3);
    } else {
        yt = nice_ticks(y0, y1);
    }
    for (double t : yt) {
        out += "<line x1=\"" + num(left) + "\" x2=\"" + num(right) + "\" y1=\"" + num(py_raw(t)) + "\" y2=\"" +
               num(py_raw(t)) + "\" stroke=\"#ddd\"/><text x=\"" + num(left - 6) + "\" y=\"" + num(py_raw(t) + 4) +
               "\" text-anchor=\"end\">" + tick_label(c.log_y ? std::pow(10.0, t) : t) + "</text>\n";
    }
    out += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(h - 12) + "\" text-anchor=\"middle\">" +
           escape(c.xlabel) + "</text>\n";
    out += "<text transform=\"translate(" + num(ox + 16) + "," + num((top + bottom) / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">" + escape(c.ylabel) + "</text>\n";
    // The data, clipped to the plot area.
    const std::string clip = "clip" + std::to_string(static_cast<long>(ox));
    out += "<clipPath id=\"" + clip + "\"><rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" +
           num(right - left) + "\" height=\"" + num(bottom - top) + "\"/></clipPath>\n<g clip-path=\"url(#" + clip +
           ")\">\n";
    for (const series& s : c.data) {
        if (s.points) {
            for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
                out += "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i])) + "\" r=\"" + num(s.width) +
                       "\" fill=\"" + s.color + "\" stroke=\"white\" stroke-width=\"0.5\"/>\n";
        } else {
            std::string d;
            bool pen = false;
            for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
                if (!std::isfinite(s.y[i]) || (c.log_y && s.y[i] <= 0)) {
                    pen = false;
                    continue;
                }
                d += (pen ? " L" : " M") + num(px(s.x[i])) + " " + num(py(s.y[i]));
                pen = true;
            }
            out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"" + num(s.width) +
                   "\"/>\n";
        }
    }
    out += "</g>\n";
    // The legend, top right.
    std::size_t labelled = 0;
    for (const series& s : c.data) labelled += s.label.empty() ? 0 : 1;
    double ly = c.legend_bottom ? bottom - 18 * static_cast<double>(labelled) + 8 : top + 16;
    for (const series& s : c.data) {
        if (s.label.empty()) continue;
        out += "<rect x=\"" + num(right - 130) + "\" y=\"" + num(ly - 10) +
               "\" width=\"124\" height=\"16\" fill=\"white\" fill-opacity=\"0.8\"/>";
        out += s.points ? "<circle cx=\"" + num(right - 118) + "\" cy=\"" + num(ly - 2) + "\" r=\"4\" fill=\"" + s.color + "\"/>"
                        : "<line x1=\"" + num(right - 126) + "\" x2=\"" + num(right - 108) + "\" y1=\"" + num(ly - 2) +
                              "\" y2=\"" + num(ly - 2) + "\" stroke=\"" + s.color + "\" stroke-width=\"2\"/>";
        out += "<text x=\"" + num(right - 102) + "\" y=\"" + num(ly + 2) + "\">" + escape(s.label) + "</text>\n";
        ly += 18;
    }
    out += "</g>\n";
}

}  // namespace detail

// Writes the charts side by side, each w x h pixels. Throws std::runtime_error naming the file.
inline void write(const std::string& path, const std::vector<chart>& charts, double w = 480, double h = 360) {
    std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + detail::num(w * static_cast<double>(charts.size())) +
                      "\" height=\"" + detail::num(h) + "\" viewBox=\"0 0 " +
                      detail::num(w * static_cast<double>(charts.size())) + " " + detail::num(h) + "\">\n" +
                      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    for (std::size_t i = 0; i < charts.size(); ++i) detail::draw(out, charts[i], w * static_cast<double>(i), w, h);
    out += "</svg>\n";
    std::ofstream f(path, std::ios::binary);
    if (!f || !(f << out) || !f.flush()) throw std::runtime_error(path + ": cannot write the SVG file");
}

}  // namespace examples::svg
