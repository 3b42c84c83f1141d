// Models, clusters and plans shared by the planner's unit tests.
#pragma once

#include "core/planner/Estimate.h"
#include "core/spec/Catalog.h"

#include <QtTest>

namespace meshwork::fixtures {

inline ModelSpec model(const char* name)
{
    auto m = findModel(name);
    if (!m) qFatal("model %s missing from the catalog", name);
    return *m;
}

inline ClusterSpec cluster(const char* gpu, int nodes, int perNode = 8)
{
    ClusterSpec c;
    auto g = findGpu(gpu);
    if (!g) qFatal("gpu %s missing from the catalog", gpu);
    c.gpu = *g;
    c.nodes = nodes;
    c.gpusPerNode = perNode;
    return c;
}

inline Plan plan(int dp, int tp, int pp, int64_t microBatch, int64_t globalBatch, int64_t seq)
{
    Plan p;
    p.dp = dp;
    p.tp = tp;
    p.pp = pp;
    p.microBatch = microBatch;
    p.globalBatch = globalBatch;
    p.seq = seq;
    return p;
}

inline Target targetFromName(const QString& s) { return s == "megatron" ? Target::Megatron : Target::Meshwork; }

} // namespace meshwork::fixtures
