#include "core/train/dist/Mesh.h"

#include "core/json/Json.h"
#include "core/train/TrainError.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
// The PyTorch wheel ships no gloo headers; Debian's libgloo-dev supplies them. A GPU machine
// without them still builds (NCCL only) and says so if asked for the CPU.
#if __has_include(<gloo/config.h>)
#define MESHWORK_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef MESHWORK_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <cmath>

namespace meshwork {

namespace {

std::string rankList(const std::vector<int>& ranks)
{
    std::string s;
    for (size_t i = 0; i < ranks.size(); ++i) s += (i ? "," : "") + std::to_string(ranks[i]);
    return s;
}

} // namespace

Mesh::Mesh(const Plan& plan, const DistConfig& dist, CommDevice device)
    : m_dist(dist), m_layout(plan), m_device(device),
      m_timeout(std::chrono::milliseconds(static_cast<int64_t>(std::llround(dist.collectiveTimeoutS * 1000.0))))
{
    if (m_layout.worldSize() != dist.worldSize) {
        auto problems = checkWorldSize(plan, dist);
        throw TrainError(TrainErrorKind::Config, problems.empty() ? "world size mismatch" : problems.front());
    }
    m_coord = m_layout.coordOf(dist.rank);
#ifndef MESHWORK_WITH_CUDA
    if (device == CommDevice::Cuda)
        throw TrainError(TrainErrorKind::Config,
                         "this meshwork-train was built without CUDA, so it has no NCCL: rebuild with -DMESHWORK_CUDA=ON "
                         "or train with --device cpu");
#else
    if (device == CommDevice::Cuda) c10::cuda::set_device(static_cast<c10::DeviceIndex>(dist.localRank));
#endif
    if (dist.worldSize > 1) {
        c10d::TCPStoreOptions opts;
        opts.port = static_cast<std::uint16_t>(dist.masterPort);
        opts.isServer = dist.rank == 0;
        opts.numWorkers = static_cast<std::size_t>(dist.worldSize);
        opts.waitWorkers = true;
        opts.timeout = m_timeout;
        try {
            m_store = c10::make_intrusive<c10d::TCPStore>(dist.masterAddr, opts);
        } catch (const std::exception& e) {
            const std::string what = e.what();
            const std::string at = dist.masterAddr + ":" + std::to_string(dist.masterPort);
            if (opts.isServer && (what.find("failed to listen") != std::string::npos
                                  || what.find("already in use") != std::string::npos))
                throw TrainError(TrainErrorKind::Comm,
                                 "cannot listen on " + at + " for the other ranks: the port is in use by another program; "
                                 "start every rank with another --master-port (or MASTER_PORT), one below 32768 "
                                 "stays clear of the ports the system hands out to connections");
            throw TrainError(TrainErrorKind::Comm,
                             "rank " + std::to_string(dist.rank) + " could not rendezvous with " + std::to_string(dist.worldSize)
                                 + " ranks at " + at + " within " + formatJsonNumber(dist.collectiveTimeoutS) + " s ("
                                 + what.substr(0, 300)
                                 + "): check that every rank started, that MASTER_ADDR/MASTER_PORT agree and the port is free");
        }
    }
    for (Axis a : {Axis::Tp, Axis::Cp, Axis::Dp, Axis::Pp})
        m_axis[static_cast<int>(a)] = makeGroup(toString(a), m_layout.groupOf(dist.rank, a));
    // dp x cp: every rank with this rank's tp and pp coordinates.
    std::vector<int> zero;
    for (int r = 0; r < m_layout.worldSize(); ++r) {
        RankCoord c = m_layout.coordOf(r);
        if (c[Axis::Tp] == m_coord[Axis::Tp] && c[Axis::Pp] == m_coord[Axis::Pp]) zero.push_back(r);
    }
    m_zero = plan.cp > 1 ? makeGroup("dp-cp", zero) : m_axis[static_cast<int>(Axis::Dp)];
    std::vector<int> all(m_layout.worldSize());
    for (int r = 0; r < m_layout.worldSize(); ++r) all[r] = r;
    m_world = makeGroup("world", all);
}

Mesh::~Mesh()
{
    // Orderly shutdown of the communicators (NCCL warns and may leak without it).
    std::vector<c10d::Backend*> done; // the zero group may share the dp group's backend
    for (CommGroup* g : {&m_axis[0], &m_axis[1], &m_axis[2], &m_axis[3], &m_zero, &m_world}) {
        if (!g->backend || std::find(done.begin(), done.end(), g->backend.get()) != done.end()) continue;
        done.push_back(g->backend.get());
        try {
            g->backend->shutdown();
        } catch (const std::exception&) {
            // A peer already gone: nothing left to release cleanly.
        }
        g->backend.reset();
    }
}

CommGroup Mesh::makeGroup(const std::string& name, std::vector<int> ranks)
{
    CommGroup g;
    g.name = name;
    g.ranks = std::move(ranks);
    g.index = static_cast<int>(std::find(g.ranks.begin(), g.ranks.end(), m_dist.rank) - g.ranks.begin());
    if (g.trivial()) return g;
    // Each group rendezvouses under its own prefix: the axis and its member ranks, which every
    // member computes alike (torch.distributed.new_group does the same with a counter).
    auto store = c10::make_intrusive<c10d::PrefixStore>(name + "/" + rankList(g.ranks), m_store);
    try {
#ifdef MESHWORK_WITH_CUDA
        if (m_device == CommDevice::Cuda) {
            auto opts = c10d::ProcessGroupNCCL::Options::create();
            opts->timeout = m_timeout;
            g.backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, g.index, g.size(), opts);
            return g;
        }
#endif
#ifndef MESHWORK_HAVE_GLOO
        throw TrainError(TrainErrorKind::Config, "this meshwork-train was built without the gloo headers, so it cannot "
                                                 "train on the CPU with several ranks: install libgloo-dev and rebuild, "
                                                 "or use --device cuda");
#else
        auto opts = c10d::ProcessGroupGloo::Options::create(m_timeout);
        // Loopback unless MASTER_ADDR names another host: then resolve this host's own name.
        const bool local = m_dist.masterAddr == "127.0.0.1" || m_dist.masterAddr == "localhost";
        opts->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                      : c10d::ProcessGroupGloo::createDefaultDevice());
        opts->threads = 1;
        g.backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, g.index, g.size(), opts);
#endif
    } catch (const TrainError&) {
        throw;
    } catch (const std::exception& e) {
        throw TrainError(TrainErrorKind::Comm, "could not create the " + name + " group of ranks " + rankList(g.ranks)
                                                   + " within " + std::to_string(m_dist.collectiveTimeoutS)
                                                   + " s: " + e.what());
    }
    return g;
}

ProcessGroups Mesh::processGroups() const
{
    ProcessGroups p;
    p.rank = m_dist.rank;
    p.worldSize = m_dist.worldSize;
    p.localRank = m_dist.localRank;
    p.dpRank = m_coord[Axis::Dp];
    p.dpSize = m_layout.size(Axis::Dp);
    return p;
}

void Mesh::wait(const c10::intrusive_ptr<c10d::Work>& work, const CommGroup& group, const char* what) const
{
    try {
        // No timeout argument: with one, NCCL's wait blocks the host until the collective ends
        // (a device sync per collective). The groups carry --collective-timeout themselves
        // (Gloo's context timeout, NCCL's watchdog), so a hang still ends in an error.
        work->wait();
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (msg.size() > 400) msg = msg.substr(0, 400) + "...";
        throw TrainError(TrainErrorKind::Comm,
                         std::string(what) + " on the " + group.name + " group (ranks " + rankList(group.ranks)
                             + ") failed or timed out after " + std::to_string(m_dist.collectiveTimeoutS)
                             + " s (--collective-timeout): a peer rank died or hangs (" + msg + ")");
    }
}

} // namespace meshwork
