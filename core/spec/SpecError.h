// The error thrown for bad user input to specs (files, flags): its message says what to fix.
#pragma once

#include <stdexcept>
#include <string>

namespace meshwork {

class SpecError : public std::runtime_error {
public:
    explicit SpecError(const std::string& message) : std::runtime_error(message) {}
};

} // namespace meshwork
