// Aligned plain-text columns for the terminal: text left, numbers right.
#pragma once

#include <string>
#include <vector>

namespace meshwork::cli {

class TextTable {
public:
    enum class Align { Left, Right };
    struct Column {
        std::string title;
        Align align = Align::Right;
    };

    explicit TextTable(std::vector<Column> columns);
    void addRow(std::vector<std::string> cells);
    std::string render(const std::string& indent = {}) const;

private:
    std::vector<Column> m_columns;
    std::vector<std::vector<std::string>> m_rows;
};

// Fixed-point with the given decimals ("12.35"); thousands separated ("1,234,567") when
// decimals is 0.
std::string fixed(double v, int decimals);
std::string withThousands(double v);
std::string percent(double fraction, int decimals = 1);
// Seconds in the most readable unit: "850 ms", "2.31 s".
std::string duration(double seconds);

} // namespace meshwork::cli
