// Two data-parallel ranks in one test process: each on its own thread with its own Mesh, the
// pair talking through Gloo on loopback. For tests of one distributed piece (Zero3,
// EmbeddingRowSync) without starting trainer processes.
#pragma once

#include "core/spec/Plan.h"
#include "core/train/dist/DistOptions.h"
#include "core/train/dist/Mesh.h"

#include "RankTestSupport.h"

#include <array>
#include <exception>
#include <string>
#include <thread>

namespace meshwork::test {

// Runs body(rank, mesh) for ranks 0 and 1 of a plan with dp 2 and this ZeRO stage. Returns
// each rank's error (what() of what it threw), empty where it ran through.
template <typename Body>
std::array<std::string, 2> onTwoRanks(int zero, Body body)
{
    const int port = freePort();
    std::array<std::string, 2> errors;
    auto rank = [&](int r) {
        try {
            Plan plan;
            plan.dp = 2;
            plan.zero = zero;
            DistConfig dist;
            dist.rank = dist.localRank = r;
            dist.worldSize = dist.localWorldSize = 2;
            dist.masterPort = port;
            dist.collectiveTimeoutS = 60;
            Mesh mesh(plan, dist, CommDevice::Cpu);
            body(r, mesh);
        } catch (const std::exception& e) {
            errors[r] = e.what();
        }
    };
    std::thread second(rank, 1);
    rank(0);
    second.join();
    return errors;
}

} // namespace meshwork::test
