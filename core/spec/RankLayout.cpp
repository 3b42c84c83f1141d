#include "core/spec/RankLayout.h"

#include "core/spec/Plan.h"
#include "core/spec/SpecError.h"

#include <algorithm>
#include <sstream>

namespace meshwork {

const char* toString(Axis a)
{
    switch (a) {
    case Axis::Tp: return "tp";
    case Axis::Cp: return "cp";
    case Axis::Dp: return "dp";
    case Axis::Pp: return "pp";
    }
    return "?";
}

std::optional<RankLayout::Order> RankLayout::parseOrder(const std::string& order, std::string* error)
{
    Order out{};
    std::array<bool, kAxisCount> seen{};
    std::stringstream ss(order);
    std::string part;
    int count = 0;
    auto fail = [&](const std::string& why) -> std::optional<Order> {
        if (error)
            *error = "order \"" + order + "\" " + why + " (write each of tp, cp, dp, pp once, innermost first, e.g. tp-cp-dp-pp)";
        return std::nullopt;
    };
    while (std::getline(ss, part, '-')) {
        std::optional<Axis> axis;
        for (Axis a : {Axis::Tp, Axis::Cp, Axis::Dp, Axis::Pp})
            if (part == toString(a)) axis = a;
        if (!axis) return fail("has an unknown axis \"" + part + "\"");
        if (seen[static_cast<int>(*axis)]) return fail("names " + part + " twice");
        if (count >= kAxisCount) return fail("has too many axes");
        seen[static_cast<int>(*axis)] = true;
        out[count++] = *axis;
    }
    if (count != kAxisCount) return fail("must name 4 axes");
    return out;
}

RankLayout::RankLayout(int tp, int cp, int dp, int pp, const std::string& order)
{
    std::string error;
    auto parsed = parseOrder(order, &error);
    if (!parsed) throw SpecError(error);
    m_order = *parsed;
    m_size = {tp, cp, dp, pp};
    for (int s : m_size)
        if (s < 1) throw SpecError("every mesh axis needs a size of at least 1");
    m_world = tp * cp * dp * pp;
}

RankLayout::RankLayout(const Plan& plan) : RankLayout(plan.tp, plan.cp, plan.dp, plan.pp, plan.order) {}

RankCoord RankLayout::coordOf(int rank) const
{
    RankCoord c;
    int r = rank;
    for (Axis a : m_order) {
        c[a] = r % size(a);
        r /= size(a);
    }
    return c;
}

int RankLayout::rankOf(const RankCoord& c) const
{
    int rank = 0;
    int stride = 1;
    for (Axis a : m_order) {
        rank += c[a] * stride;
        stride *= size(a);
    }
    return rank;
}

std::vector<int> RankLayout::groupOf(int rank, Axis a) const
{
    RankCoord c = coordOf(rank);
    std::vector<int> group;
    group.reserve(size(a));
    for (int i = 0; i < size(a); ++i) {
        c[a] = i;
        group.push_back(rankOf(c));
    }
    return group;
}

std::vector<std::vector<int>> RankLayout::groups(Axis a) const
{
    std::vector<std::vector<int>> out;
    std::vector<bool> done(m_world, false);
    for (int r = 0; r < m_world; ++r) {
        if (done[r]) continue;
        auto g = groupOf(r, a);
        for (int m : g) done[m] = true;
        out.push_back(std::move(g));
    }
    return out;
}

} // namespace meshwork
