// Which link each parallel axis communicates over: a group whose ranks share a node uses
// the intra-node link (NVLink/PCIe), one that spans nodes the inter-node network. The rank
// order string puts axes innermost first (core/spec/RankLayout.h), so an axis's ranks are
// `stride` apart, stride = product of the sizes of the axes inside it.
#pragma once

#include "core/spec/GpuSpec.h"
#include "core/spec/Plan.h"

namespace meshwork {

struct AxisLink {
    int size = 1;
    bool crossesNodes = false;
    double GBps = 0;      // effective bus bandwidth per GPU (datasheet x NCCL efficiency)
};

struct Links {
    AxisLink tp, cp, dp, pp;
};

Links planLinks(const ClusterSpec& cluster, const Plan& plan);

// Ring collectives (Thakur et al. 2005; NCCL): time for `bytes` per GPU over n ranks.
double allReduceSeconds(double bytes, const AxisLink& link);
double allGatherSeconds(double bytes, const AxisLink& link);     // bytes = gathered (full) size
double broadcastSeconds(double bytes, const AxisLink& link);     // bytes from one rank to all (a pipelined ring)
double reduceScatterSeconds(double bytes, const AxisLink& link); // bytes = input (full) size

} // namespace meshwork
