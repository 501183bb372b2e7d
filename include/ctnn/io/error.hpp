#pragma once
// ctnn::io_error: what every file operation of ctnn throws for run-time bad input (a missing,
// unreadable, truncated or corrupt file; a wrong name, shape or dtype). The message names the file
// and, where one is concerned, the tensor; file() and tensor() give them to a program. An operation
// that throws leaves its target as it was.
#include <stdexcept>
#include <string>
#include <utility>

namespace ctnn {

class io_error : public std::runtime_error {
public:
    // tensor is empty when the error concerns the file as a whole (its header, its length).
    io_error(std::string file, std::string tensor, const std::string& what)
        : std::runtime_error(message(file, tensor, what)), file_{std::move(file)}, tensor_{std::move(tensor)} {}

    const std::string& file() const noexcept { return file_; }
    const std::string& tensor() const noexcept { return tensor_; }

private:
    static std::string message(const std::string& file, const std::string& tensor, const std::string& what) {
        std::string m = "ctnn: " + file + ": ";
        if (!tensor.empty()) m += "tensor \"" + tensor + "\": ";
        return m + what;
    }

    std::string file_;
    std::string tensor_;
};

}  // namespace ctnn
