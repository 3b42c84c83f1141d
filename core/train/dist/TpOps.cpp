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

namespace {

// Megatron-LM's _VocabParallelCrossEntropy as one autograd node: the forward turns the fp32
// logits into the softmax over the whole vocabulary (exp of the logits shifted by the global row
// maximum, over the all-reduced sum) and keeps only that; the backward rewrites it in place into
// (softmax - onehot(target)) * grad / N. One [N, Vl] fp32 tensor is saved, where autograd's
// chain of sub, exp and gather would keep and allocate several (and the planner's memory model
// counts one).
struct VocabParallelCE : torch::autograd::Function<VocabParallelCE> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits, const at::Tensor& targets,
                              int64_t vocabStart, Mesh* m, CommGroup* g)
    {
        const int64_t Vl = logits.size(-1);
        at::Tensor rowMax = std::get<0>(logits.max(-1));
        allReduceInPlace(*m, *g, rowMax, "vocabulary-parallel max", /*max=*/true);
        at::Tensor softmax = logits - rowMax.unsqueeze(-1);
        const at::Tensor mine = targets.ge(vocabStart).logical_and(targets.lt(vocabStart + Vl)).to(softmax.scalar_type());
        const at::Tensor local = (targets - vocabStart).clamp(0, Vl - 1).unsqueeze(-1);
        const at::Tensor picked = softmax.gather(-1, local).squeeze(-1) * mine;
        softmax.exp_();
        // The two sums over the vocabulary shards in one all-reduce: [2, N].
        at::Tensor sums = at::stack({softmax.sum(-1), picked});
        allReduceInPlace(*m, *g, sums, "vocabulary-parallel sums");
        const at::Tensor sumExp = sums[0];
        softmax.div_(sumExp.unsqueeze(-1));
        ctx->saved_data["softmax"] = softmax;
        ctx->saved_data["local"] = local;
        ctx->saved_data["mine"] = mine;
        return (sumExp.log() - sums[1]).mean();
    }
    static variable_list backward(AutogradContext* ctx, variable_list grad)
    {
        at::Tensor d = ctx->saved_data["softmax"].toTensor();
        const at::Tensor local = ctx->saved_data["local"].toTensor();
        const at::Tensor mine = ctx->saved_data["mine"].toTensor();
        ctx->saved_data.clear();
        d.scatter_add_(-1, local, -mine.unsqueeze(-1));
        d.mul_(grad[0] / static_cast<double>(d.size(0)));
        return {d, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

} // namespace

at::Tensor vocabParallelCrossEntropy(const at::Tensor& logits, const at::Tensor& targets, int64_t vocabStart, Mesh& mesh,
                                     CommGroup& tp)
{
    // One rank holds the whole vocabulary: PyTorch's fused cross-entropy, as TransformerModel.
    if (tp.trivial()) return at::cross_entropy_loss(logits, targets);
    return VocabParallelCE::apply(logits, targets, vocabStart, &mesh, &tp);
}

} // namespace meshwork
