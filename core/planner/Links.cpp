#include "core/planner/Links.h"

#include "core/planner/Calibration.h"

#include <string_view>

namespace meshwork {

namespace {

int axisSize(const Plan& p, std::string_view name)
{
    if (name == "tp") return p.tp;
    if (name == "cp") return p.cp;
    if (name == "dp") return p.dp;
    if (name == "pp") return p.pp;
    return 1;
}

AxisLink link(const ClusterSpec& c, int size, long stride)
{
    AxisLink l;
    l.size = size > 0 ? size : 1;
    const long gpn = c.gpusPerNode > 0 ? c.gpusPerNode : 1;
    // The group's ranks are base, base + stride, ...; it stays inside one node when its span
    // fits a node and nodes hold whole groups.
    const long span = stride * l.size;
    l.crossesNodes = l.size > 1 && (span > gpn || gpn % span != 0);
    l.GBps = l.crossesNodes ? c.interNodeGBps() * calib::kInterNodeCommEfficiency
                            : c.intraNodeGBps() * calib::kIntraNodeCommEfficiency;
    return l;
}

} // namespace

Links planLinks(const ClusterSpec& cluster, const Plan& plan)
{
    Links links;
    // Walk the order string (innermost first) without allocating; an unparsable order falls
    // back to tp-cp-dp-pp (Plan::validate reports it).
    std::string_view order = plan.order;
    std::string_view names[4];
    int n = 0;
    while (n < 4 && !order.empty()) {
        const size_t dash = order.find('-');
        names[n++] = order.substr(0, dash);
        order = dash == std::string_view::npos ? std::string_view() : order.substr(dash + 1);
    }
    bool ok = n == 4;
    for (const char* want : {"tp", "cp", "dp", "pp"}) {
        bool found = false;
        for (int i = 0; i < n; ++i) found = found || names[i] == want;
        ok = ok && found;
    }
    if (!ok) {
        names[0] = "tp"; names[1] = "cp"; names[2] = "dp"; names[3] = "pp";
    }
    long stride = 1;
    for (const std::string_view& name : names) {
        const int size = axisSize(plan, name);
        const AxisLink l = link(cluster, size, stride);
        if (name == "tp") links.tp = l;
        else if (name == "cp") links.cp = l;
        else if (name == "dp") links.dp = l;
        else links.pp = l;
        stride *= size > 0 ? size : 1;
    }
    return links;
}

double allReduceSeconds(double bytes, const AxisLink& l)
{
    if (l.size <= 1 || l.GBps <= 0) return 0;
    const double n = l.size;
    return calib::kCollectiveLatencyS + 2 * (n - 1) / n * bytes / (l.GBps * 1e9);
}

double allGatherSeconds(double bytes, const AxisLink& l)
{
    if (l.size <= 1 || l.GBps <= 0) return 0;
    const double n = l.size;
    return calib::kCollectiveLatencyS + (n - 1) / n * bytes / (l.GBps * 1e9);
}

double reduceScatterSeconds(double bytes, const AxisLink& l) { return allGatherSeconds(bytes, l); }

double broadcastSeconds(double bytes, const AxisLink& l)
{
    if (l.size <= 1 || l.GBps <= 0) return 0;
    return calib::kCollectiveLatencyS + bytes / (l.GBps * 1e9);
}

} // namespace meshwork
