// Where each rank sits on the mesh, and the process groups of every axis.
// Pure functions, tested without devices; the workbench and the trainer both use them.
//
// The order string lists the axes innermost first (Megatron RankGenerator): with
// "tp-cp-dp-pp", rank = tp_i + TP * (cp_i + CP * (dp_i + DP * pp_i)), so the ranks of a
// tensor-parallel group are consecutive and land on one node's fast link.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace meshwork {

struct Plan;

enum class Axis { Tp = 0, Cp = 1, Dp = 2, Pp = 3 };
constexpr int kAxisCount = 4;
const char* toString(Axis a);

struct RankCoord {
    std::array<int, kAxisCount> index{}; // indexed by Axis
    int& operator[](Axis a) { return index[static_cast<int>(a)]; }
    int operator[](Axis a) const { return index[static_cast<int>(a)]; }
    bool operator==(const RankCoord&) const = default;
};

class RankLayout {
public:
    using Order = std::array<Axis, kAxisCount>; // innermost first

    // Parses "tp-cp-dp-pp" style orders: each of tp, cp, dp, pp exactly once.
    static std::optional<Order> parseOrder(const std::string& order, std::string* error = nullptr);

    RankLayout(int tp, int cp, int dp, int pp, const std::string& order = "tp-cp-dp-pp"); // throws SpecError
    explicit RankLayout(const Plan& plan);

    int worldSize() const { return m_world; }
    int size(Axis a) const { return m_size[static_cast<int>(a)]; }
    const Order& order() const { return m_order; }

    RankCoord coordOf(int rank) const;
    int rankOf(const RankCoord& c) const;

    // Every group along an axis: the ranks that differ only in that axis, ordered by it.
    // Groups are listed by the lowest rank they contain.
    std::vector<std::vector<int>> groups(Axis a) const;
    // The group along an axis that holds rank.
    std::vector<int> groupOf(int rank, Axis a) const;

private:
    std::array<int, kAxisCount> m_size{};
    Order m_order{};
    int m_world = 1;
};

} // namespace meshwork
