#include "core/train/dist/TpOps.h"

#include "core/train/dist/Mesh.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

namespace meshwork {

void allReduceInPlace(Mesh& mesh, CommGroup& group, at::Tensor& t, const char* what, bool max)
{
    if (group.trivial()) return;
    std::vector<at::Tensor> v{t};
    c10d::AllreduceOptions opts;
    opts.reduceOp = max ? c10d::ReduceOp::MAX : c10d::ReduceOp::SUM;
    opts.timeout = mesh.timeout();
    mesh.wait(group.backend->allreduce(v, opts), group, what);
}

at::Tensor allGatherDim0(Mesh& mesh, CommGroup& group, const at::Tensor& x)
{
    at::Tensor in = x.contiguous();
    std::vector<int64_t> shape = in.sizes().vec();
    shape[0] *= group.size();
    at::Tensor out = at::empty(shape, in.options());
    c10d::AllgatherOptions opts;
    opts.timeout = mesh.timeout();
    mesh.wait(group.backend->_allgather_base(out, in, opts), group, "all-gather");
    return out;
}

at::Tensor reduceScatterDim0(Mesh& mesh, CommGroup& group, const at::Tensor& x)
{
    at::Tensor in = x.contiguous();
    std::vector<int64_t> shape = in.sizes().vec();
    shape[0] /= group.size();
    at::Tensor out = at::empty(shape, in.options());
    c10d::ReduceScatterOptions opts;
    opts.timeout = mesh.timeout();
    try {
        mesh.wait(group.backend->_reduce_scatter_base(out, in, opts), group, "reduce-scatter");
    } catch (const c10::Error&) {
        // Backends without reduce-scatter: all-reduce, keep this rank's part (same sums).
        at::Tensor all = in.clone();
        allReduceInPlace(mesh, group, all, "reduce-scatter (all-reduce fallback)");
        out.copy_(all.narrow(0, shape[0] * group.index, shape[0]));
    }
    return out;
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The group and mesh travel through the autograd context as integers: saved_data holds
// IValues only, and both outlive every graph built during the run.
struct Comm {
    Mesh* mesh;
    CommGroup* group;
    static void save(AutogradContext* ctx, Mesh& m, CommGroup& g)
    {
        ctx->saved_data["mesh"] = reinterpret_cast<int64_t>(&m);
        ctx->saved_data["group"] = reinterpret_cast<int64_t>(&g);
    }
    static Comm load(AutogradContext* ctx)
    {
        return {reinterpret_cast<Mesh*>(ctx->saved_data["mesh"].toInt()),
                reinterpret_cast<CommGroup*>(ctx->saved_data["group"].toInt())};
    }
};

at::Tensor allReduced(Mesh& mesh, CommGroup& group, const at::Tensor& x)
{
    at::Tensor t = x.contiguous().clone();
    allReduceInPlace(mesh, group, t, "tensor-parallel all-reduce");
    return t;
}

// [B, T/t, C] shards -> [B, T, C]: gather along the sequence (dim 1) through dim 0.
at::Tensor gatherSequence(Mesh& mesh, CommGroup& group, const at::Tensor& x)
{
    return allGatherDim0(mesh, group, x.transpose(0, 1)).transpose(0, 1).contiguous();
}
at::Tensor scatterSequence(Mesh& mesh, CommGroup& group, const at::Tensor& x)
{
    return reduceScatterDim0(mesh, group, x.transpose(0, 1)).transpose(0, 1).contiguous();
}

struct CopyToTp : torch::autograd::Function<CopyToTp> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, Mesh* m, CommGroup* g)
    {
        Comm::save(ctx, *m, *g);
        return x.view_as(x);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad)
    {
        auto c = Comm::load(ctx);
        return {allReduced(*c.mesh, *c.group, grad[0]), at::Tensor(), at::Tensor()};
    }
};

struct ReduceFromTp : torch::autograd::Function<ReduceFromTp> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, Mesh* m, CommGroup* g)
    {
        return allReduced(*m, *g, x);
    }
    static variable_list backward(AutogradContext*, variable_list grad) { return {grad[0], at::Tensor(), at::Tensor()}; }
};

struct ScatterSeq : torch::autograd::Function<ScatterSeq> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, Mesh* m, CommGroup* g)
    {
        Comm::save(ctx, *m, *g);
        return scatterSequence(*m, *g, x);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad)
    {
        auto c = Comm::load(ctx);
        return {gatherSequence(*c.mesh, *c.group, grad[0]), at::Tensor(), at::Tensor()};
    }
};

struct GatherSeq : torch::autograd::Function<GatherSeq> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, Mesh* m, CommGroup* g)
    {
        Comm::save(ctx, *m, *g);
        return gatherSequence(*m, *g, x);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad)
    {
        auto c = Comm::load(ctx);
        return {scatterSequence(*c.mesh, *c.group, grad[0]), at::Tensor(), at::Tensor()};
    }
};

} // namespace

at::Tensor copyToTp(const at::Tensor& x, Mesh& mesh, CommGroup& tp)
{
    return tp.trivial() ? x : CopyToTp::apply(x, &mesh, &tp);
}

at::Tensor reduceFromTp(const at::Tensor& x, Mesh& mesh, CommGroup& tp)
{
    return tp.trivial() ? x : ReduceFromTp::apply(x, &mesh, &tp);
}

at::Tensor scatterSeq(const at::Tensor& x, Mesh& mesh, CommGroup& tp)
{
    return tp.trivial() ? x : ScatterSeq::apply(x, &mesh, &tp);
}

at::Tensor gatherSeq(const at::Tensor& x, Mesh& mesh, CommGroup& tp)
{
    return tp.trivial() ? x : GatherSeq::apply(x, &mesh, &tp);
}

at::Tensor vocabParallelCrossEntropy(const at::Tensor& logits, const at::Tensor& targets, int64_t vocabStart, Mesh& mesh,
                                     CommGroup& tp)
{
    const int64_t Vl = logits.size(-1);
    at::Tensor rowMax = std::get<0>(logits.detach().max(-1));
    allReduceInPlace(mesh, tp, rowMax, "vocabulary-parallel max", /*max=*/true);
    const at::Tensor shifted = logits - rowMax.unsqueeze(-1);
    const at::Tensor sumExp = reduceFromTp(shifted.exp().sum(-1), mesh, tp);
    const at::Tensor mine = targets.ge(vocabStart).logical_and(targets.lt(vocabStart + Vl));
    const at::Tensor local = (targets - vocabStart).clamp(0, Vl - 1);
    const at::Tensor picked = shifted.gather(-1, local.unsqueeze(-1)).squeeze(-1) * mine.to(shifted.scalar_type());
    const at::Tensor target = reduceFromTp(picked, mesh, tp);
    return (sumExp.log() - target).mean();
}

} // namespace meshwork
