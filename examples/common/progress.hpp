#pragma once
// A terminal progress display for ctnn's examples (the library itself prints nothing): one line
// per training run, redrawn after each epoch with the epoch, a bar, the losses and metrics, and
// the throughput in samples per second. When stdout is not a terminal (a CI log), it prints a
// line at every tenth of the run instead of redrawing.
//
//   examples::progress_bar bar{"digits"};
//   ctnn::fit<32>(tr, train, {..., .on_epoch = [&](ctnn::epoch_stats& s) { bar.update(s); }});
//   bar.finish();
#include <ctnn/train/fit.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>

namespace examples {

class progress_bar {
public:
    explicit progress_bar(std::string name, std::FILE* out = stdout)
        : name_{std::move(name)}, out_{out}, tty_{isatty(fileno(out)) != 0}, start_{clock::now()} {}

    void update(const ctnn::epoch_stats& s) {
        samples_ += s.samples;
        const double seconds = std::chrono::duration<double>(clock::now() - start_).count();
        const std::size_t done = s.epoch + 1, total = s.epochs;
        char line[256];
        int n = std::snprintf(line, sizeof line, "%s %4zu/%zu [", name_.c_str(), done, total);
        constexpr std::size_t width = 24;
        const std::size_t filled = total == 0 ? width : done * width / total;
        for (std::size_t i = 0; i < width && n + 2 < static_cast<int>(sizeof line); ++i) line[n++] = i < filled ? '#' : '.';
        n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), "] loss %.4f", s.train_loss);
        append_metric(line, n, "", s.kind, s.train_metric);
        if (!std::isnan(s.val_loss)) n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), "  val_loss %.4f", s.val_loss);
        append_metric(line, n, "val_", s.kind, s.val_metric);
        const double rate = seconds > 0 ? static_cast<double>(samples_) / seconds : 0;
        std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), "  %.0fk samples/s", rate / 1000);
        if (tty_) {
            std::fprintf(out_, "\r%s\033[K", line);
            std::fflush(out_);
        } else if (total < 10 || done * 10 / total != (done - 1) * 10 / total || done == total) {
            std::fprintf(out_, "%s\n", line);
        }
        drawn_ = true;
    }

    // Ends the redrawn line (call once after training).
    void finish() {
        if (tty_ && drawn_) std::fprintf(out_, "\n");
        drawn_ = false;
    }

private:
    using clock = std::chrono::steady_clock;

    static void append_metric(char* line, int& n, const char* prefix, ctnn::metric kind, double value) {
        if (std::isnan(value)) return;
        const std::size_t room = 256 - static_cast<std::size_t>(n);
        if (kind == ctnn::metric::accuracy)
            n += std::snprintf(line + n, room, "  %sacc %.1f%%", prefix, 100 * value);
        else if (kind == ctnn::metric::mae)
            n += std::snprintf(line + n, room, "  %smae %.4f", prefix, value);
    }

    std::string name_;
    std::FILE* out_;
    bool tty_;
    bool drawn_ = false;
    clock::time_point start_;
    std::size_t samples_ = 0;
};

}  // namespace examples
