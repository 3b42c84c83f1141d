// The device mesh of one run: the rendezvous (c10d TCPStore on rank 0) and one process group
// per mesh axis, built from the same RankLayout the planner uses. Passed explicitly to
// everything that communicates (no global groups; Megatron's ProcessGroupCollection).
// Gloo on the CPU; NCCL on GPUs when built with MESHWORK_CUDA.
#pragma once

#include "core/spec/Plan.h"
#include "core/spec/RankLayout.h"
#include "core/train/TrainContext.h"
#include "core/train/dist/DistOptions.h"

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace meshwork {

enum class CommDevice { Cpu, Cuda };

// One communicator over a set of global ranks. size() == 1 has no backend: callers skip it.
struct CommGroup {
    std::string name;                 // "tp", "dp", "dp-cp", "pp", "world"
    std::vector<int> ranks;           // global ranks, ordered by position on the axis
    int index = 0;                    // this rank's position in ranks
    c10::intrusive_ptr<c10d::Backend> backend;
    int size() const { return static_cast<int>(ranks.size()); }
    bool trivial() const { return ranks.size() <= 1; }
};

class Mesh {
public:
    // Rendezvous and group creation; throws TrainError(comm) when the store or a peer cannot be
    // reached within the collective timeout, TrainError(config) when plan and launch disagree.
    Mesh(const Plan& plan, const DistConfig& dist, CommDevice device);
    ~Mesh();
    Mesh(const Mesh&) = delete;
    Mesh& operator=(const Mesh&) = delete;

    int rank() const { return m_dist.rank; }
    int worldSize() const { return m_dist.worldSize; }
    const DistConfig& dist() const { return m_dist; }
    const RankLayout& layout() const { return m_layout; }
    const RankCoord& coord() const { return m_coord; }
    int size(Axis a) const { return m_layout.size(a); }
    int index(Axis a) const { return m_coord[a]; }
    std::chrono::milliseconds timeout() const { return m_timeout; }

    CommGroup& group(Axis a) { return m_axis[static_cast<int>(a)]; }
    // ZeRO shards over every rank that holds the same model slice: dp, and cp when cp > 1
    // (Megatron's data-parallel-with-context-parallel group).
    CommGroup& zeroGroup() { return m_zero; }
    CommGroup& world() { return m_world; }

    // The fields TrainContext carries: rank, world size, local rank, dp rank and size. Data
    // shards by dp only: cp ranks and tp ranks of one dp replica read the same batch.
    ProcessGroups processGroups() const;

    // Waits for a collective; a timeout or peer failure becomes TrainError(comm) that names
    // the collective, the group and the timeout.
    void wait(const c10::intrusive_ptr<c10d::Work>& work, const CommGroup& group, const char* what) const;

private:
    CommGroup makeGroup(const std::string& name, std::vector<int> ranks);

    DistConfig m_dist;
    RankLayout m_layout;
    RankCoord m_coord;
    CommDevice m_device;
    std::chrono::milliseconds m_timeout;
    c10::intrusive_ptr<c10d::Store> m_store;
    CommGroup m_axis[kAxisCount];
    CommGroup m_zero;
    CommGroup m_world;
};

} // namespace meshwork
