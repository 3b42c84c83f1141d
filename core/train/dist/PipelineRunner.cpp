#include "core/train/dist/PipelineRunner.h"

#include "core/train/Device.h"
#include "core/train/dist/Mesh.h"
#include "core/train/dist/ParallelModel.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <map>

namespace meshwork {

namespace {

struct P2p {
    Mesh& mesh;
    CommGroup& pp;
    int stages;
    std::vector<std::pair<c10::intrusive_ptr<c10d::Work>, at::Tensor>> pending; // sends and their buffers

    // Forward messages are tagged by the receiving virtual stage, backward ones likewise.
    int tag(int mb, int v, int backward) const { return (mb * stages + v) * 2 + backward; }
    void send(const at::Tensor& t, int dst, int tag)
    {
        // Sends already delivered release their buffers now rather than at the end of the step
        // (each is a [B, T, C] fp32 tensor: one per micro-batch would pile up otherwise).
        // wait() on a completed send returns at once, and reports its error if it failed.
        std::erase_if(pending, [this](const auto& p) {
            if (!p.first->isCompleted()) return false;
            mesh.wait(p.first, pp, "pipeline send");
            return true;
        });
        std::vector<at::Tensor> v{t.detach().contiguous()};
        pending.emplace_back(pp.backend->send(v, dst, tag), v[0]);
    }
    at::Tensor recv(std::vector<int64_t> shape, const at::TensorOptions& opts, int src, int tag)
    {
        std::vector<at::Tensor> v{at::empty(shape, opts)};
        mesh.wait(pp.backend->recv(v, src, tag), pp, "pipeline receive");
        return v[0];
    }
    void drain()
    {
        for (auto& [work, buffer] : pending) mesh.wait(work, pp, "pipeline send");
        pending.clear();
    }
};

} // namespace

at::Tensor runPipelineStep(ParallelModel& model, Mesh& mesh, const PipelineSchedule& schedule,
                           const std::vector<MicroBatch>& batches, Precision precision, double lossScale)
{
    CommGroup& pp = mesh.group(Axis::Pp);
    const int n = pp.size(), i = pp.index, S = n * schedule.vpp;
    const int prev = (i - 1 + n) % n, next = (i + 1) % n;
    const int64_t B = batches.at(0).inputs.size(0), T = batches.at(0).inputs.size(1);
    const c10::Device device = batches[0].inputs.device();
    const auto hidden = at::TensorOptions().dtype(at::kFloat).device(device);
    P2p p2p{mesh, pp, S, {}};
    at::Tensor lossSum = at::zeros({1}, hidden);
    struct Saved {
        at::Tensor input, output;
    };
    std::map<std::pair<int, int>, Saved> saved; // (micro-batch, chunk)
    const double scale = lossScale / static_cast<double>(batches.size());
    AutocastCacheScope castOnce(precision); // one 16-bit copy of the weights for all micro-batches in flight

    for (const PipeOp& op : schedule.ranks.at(i)) {
        const int v = op.chunk * n + i;
        const MicroBatch& mb = batches.at(op.microBatch);
        if (op.kind == PipeOp::Forward) {
            at::Tensor in = v == 0 ? mb.inputs : p2p.recv(model.hiddenShape(B, T), hidden, prev, p2p.tag(op.microBatch, v, 0));
            if (v > 0) in.requires_grad_(true);
            at::Tensor out;
            {
                AutocastScope autocast(device, precision);
                out = model.forward(op.chunk, in, mb.targets);
            }
            if (v == S - 1)
                lossSum += out.detach().to(at::kFloat);
            else
                p2p.send(out.to(at::kFloat), next, p2p.tag(op.microBatch, v + 1, 0));
            saved[{op.microBatch, op.chunk}] = Saved{in, out};
        } else {
            auto node = saved.extract({op.microBatch, op.chunk});
            Saved& s = node.mapped();
            if (v == S - 1) {
                (s.output * scale).backward();
            } else {
                const at::Tensor grad = p2p.recv(s.output.sizes().vec(), hidden, next, p2p.tag(op.microBatch, v, 1));
                s.output.backward(grad.to(s.output.scalar_type()));
            }
            if (v > 0) p2p.send(s.input.grad(), prev, p2p.tag(op.microBatch, v - 1, 1));
        }
    }
    p2p.drain();
    return lossSum;
}

at::Tensor pipelineForwardLoss(ParallelModel& model, Mesh& mesh, const MicroBatch& batch, int vpp, Precision precision)
{
    at::NoGradGuard noGrad;
    CommGroup& pp = mesh.group(Axis::Pp);
    const int n = pp.size(), i = pp.index, S = n * vpp;
    const int64_t B = batch.inputs.size(0), T = batch.inputs.size(1);
    const auto hidden = at::TensorOptions().dtype(at::kFloat).device(batch.inputs.device());
    P2p p2p{mesh, pp, S, {}};
    at::Tensor loss = at::zeros({1}, hidden);
    for (int c = 0; c < vpp; ++c) {
        const int v = c * n + i;
        at::Tensor in = v == 0 ? batch.inputs : p2p.recv(model.hiddenShape(B, T), hidden, (i - 1 + n) % n, p2p.tag(0, v, 0));
        at::Tensor out;
        {
            AutocastScope autocast(batch.inputs.device(), precision);
            out = model.forward(c, in, batch.targets);
        }
        if (v == S - 1)
            loss += out.to(at::kFloat);
        else
            p2p.send(out.to(at::kFloat), (i + 1) % n, p2p.tag(0, v + 1, 0));
    }
    p2p.drain();
    return loss;
}

} // namespace meshwork
