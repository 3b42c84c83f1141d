#include "app/cli/TextTable.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace meshwork::cli {

TextTable::TextTable(std::vector<Column> columns) : m_columns(std::move(columns)) {}

void TextTable::addRow(std::vector<std::string> cells)
{
    cells.resize(m_columns.size());
    m_rows.push_back(std::move(cells));
}

std::string TextTable::render(const std::string& indent) const
{
    std::vector<size_t> width(m_columns.size());
    for (size_t c = 0; c < m_columns.size(); ++c) {
        width[c] = m_columns[c].title.size();
        for (const auto& r : m_rows) width[c] = std::max(width[c], r[c].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out = indent;
        for (size_t c = 0; c < cells.size(); ++c) {
            const std::string pad(width[c] - cells[c].size(), ' ');
            if (c) out += "  ";
            out += m_columns[c].align == Align::Left ? cells[c] + (c + 1 < cells.size() ? pad : "") : pad + cells[c];
        }
        return out + "\n";
    };
    std::vector<std::string> titles;
    for (const auto& col : m_columns) titles.push_back(col.title);
    std::string out = line(titles);
    for (const auto& r : m_rows) out += line(r);
    return out;
}

std::string fixed(double v, int decimals)
{
    if (!std::isfinite(v)) return "-";
    if (decimals == 0) return withThousands(v);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string withThousands(double v)
{
    if (!std::isfinite(v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", std::fabs(v));
    std::string digits = buf, out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return (v < 0 && out != "0" ? "-" : "") + out;
}

std::string percent(double fraction, int decimals) { return fixed(fraction * 100.0, decimals) + "%"; }

std::string duration(double seconds)
{
    if (!std::isfinite(seconds)) return "-";
    if (seconds < 1.0) return fixed(seconds * 1000.0, seconds < 0.01 ? 2 : 1) + " ms";
    return fixed(seconds, 3) + " s";
}

} // namespace meshwork::cli
