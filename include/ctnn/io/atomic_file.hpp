#pragma once
// write_file_atomically(path, bytes): the file at path is either left as it was or replaced by
// bytes as a whole, never half-written. The bytes go to a new temporary file in the same directory
// (so the rename stays within one file system), which is flushed to disk and then renamed over
// path; on any failure the temporary file is removed and an io_error names path.
// The new file gets the default permissions (0666 less the umask), like any newly created file.
#include <ctnn/io/error.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>

#if __has_include(<unistd.h>)
#include <unistd.h>
#define CTNN_IO_HAS_FSYNC 1
#endif

namespace ctnn::io::detail {

inline void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    const std::string file = path.string();
    if (!path.has_filename()) throw io_error(file, "", "is not a file name");
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw io_error(file, "", "is a directory");
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");

    // A fresh name, created exclusively ("x": fails if it exists), so two writers never share it.
    static std::atomic<std::uint64_t> counter{0};
    std::filesystem::path tmp;
    std::FILE* f = nullptr;
    for (int attempt = 0; attempt < 64 && !f; ++attempt) {
        const auto stamp = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        std::string name(1, '.');
        name += path.filename().string();
        name += ".tmp-";
        name += std::to_string((stamp ^ (counter.fetch_add(1) * 0x9e3779b97f4a7c15ULL)) % 1000000007ULL);
        tmp = dir / name;
        f = std::fopen(tmp.string().c_str(), "wbx");
        if (!f && errno != EEXIST) break;
    }
    if (!f)
        throw io_error(file, "", "cannot create a temporary file in " + dir.string() + ": " + std::strerror(errno));

    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
    int err = ok ? 0 : errno;
#ifdef CTNN_IO_HAS_FSYNC
    if (ok && ::fsync(fileno(f)) != 0) ok = false, err = errno;
#endif
    if (std::fclose(f) != 0 && ok) ok = false, err = errno;
    if (ok) {
        std::filesystem::rename(tmp, path, ec);
        if (ec) {
            const std::string why = ec.message();
            std::filesystem::remove(tmp, ec);
            throw io_error(file, "", "cannot replace the file: " + why);
        }
        return;
    }
    std::filesystem::remove(tmp, ec);
    throw io_error(file, "", std::string("cannot write: ") + std::strerror(err));
}

}  // namespace ctnn::io::detail
