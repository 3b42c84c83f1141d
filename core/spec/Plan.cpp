#include "core/spec/Plan.h"

#include "core/json/Json.h"
#include "core/spec/GpuSpec.h"
#include "core/spec/JsonFields.h"
#include "core/spec/ModelSpec.h"
#include "core/spec/RankLayout.h"
#include "core/spec/SpecError.h"
#include "core/spec/StageLayers.h"

#include <cmath>

namespace meshwork {

const char* toString(Precision p)
{
    switch (p) {
    case Precision::Bf16: return "bf16";
    case Precision::Fp16: return "fp16";
    case Precision::Fp32: return "fp32";
    }
    return "?";
}

const char* toString(Recompute r)
{
    switch (r) {
    case Recompute::None: return "none";
    case Recompute::Selective: return "selective";
    case Recompute::Full: return "full";
    }
    return "?";
}

const char* toString(Offload o)
{
    switch (o) {
    case Offload::None: return "none";
    case Offload::Optimizer: return "optimizer";
    case Offload::OptimizerParams: return "optimizer+params";
    }
    return "?";
}

const char* toString(Optimizer o)
{
    switch (o) {
    case Optimizer::AdamW: return "adamw";
    case Optimizer::Lamb: return "lamb";
    case Optimizer::Lars: return "lars";
    case Optimizer::Sgd: return "sgd";
    }
    return "?";
}

std::optional<Precision> parsePrecision(const std::string& s)
{
    for (auto p : {Precision::Bf16, Precision::Fp16, Precision::Fp32})
        if (s == toString(p)) return p;
    return std::nullopt;
}

std::optional<Recompute> parseRecompute(const std::string& s)
{
    for (auto r : {Recompute::None, Recompute::Selective, Recompute::Full})
        if (s == toString(r)) return r;
    return std::nullopt;
}

std::optional<Offload> parseOffload(const std::string& s)
{
    for (auto o : {Offload::None, Offload::Optimizer, Offload::OptimizerParams})
        if (s == toString(o)) return o;
    return std::nullopt;
}

std::optional<Optimizer> parseOptimizer(const std::string& s)
{
    for (auto o : {Optimizer::AdamW, Optimizer::Lamb, Optimizer::Lars, Optimizer::Sgd})
        if (s == toString(o)) return o;
    return std::nullopt;
}

int64_t Plan::microBatches() const
{
    const int64_t perStep = microBatch * dp;
    return perStep > 0 ? effectiveGlobalBatch() / perStep : 0;
}

namespace {
std::string n(int64_t v) { return std::to_string(v); }
} // namespace

std::vector<std::string> Plan::validate() const
{
    std::vector<std::string> e;
    auto atLeastOne = [&](int64_t v, const char* name) {
        if (v < 1) e.push_back(std::string(name) + " must be at least 1 (got " + n(v) + ")");
    };
    atLeastOne(dp, "dp");
    atLeastOne(tp, "tp");
    atLeastOne(pp, "pp");
    atLeastOne(vpp, "vpp");
    atLeastOne(cp, "cp");
    atLeastOne(microBatch, "micro-batch");
    atLeastOne(seq, "seq");
    if (zero < 0 || zero > 3) e.push_back("zero must be 0, 1, 2 or 3 (got " + n(zero) + ")");
    if (offloadFraction < 0 || offloadFraction > 1)
        e.push_back("offload-fraction must be between 0 and 1 (got " + formatJsonNumber(offloadFraction) + ")");
    if (gradReduce == Precision::Fp16)
        e.push_back("grad-reduce must be fp32 or bf16 (got fp16: its range would overflow summed gradients)");
    if (sp && tp < 2) e.push_back("sp (sequence parallelism) needs tp > 1 (tp = " + n(tp) + ")");
    if (vpp > 1 && pp < 2) e.push_back("vpp = " + n(vpp) + " needs pp > 1 (pp = " + n(pp) + ")");
    if (offload == Offload::Optimizer && zero < 1)
        e.push_back("offload optimizer needs zero >= 1 (zero = " + n(zero) + ")");
    if (offload == Offload::OptimizerParams && zero < 3)
        e.push_back("offload optimizer+params needs zero = 3 (zero = " + n(zero) + ")");
    if (globalBatch < 0) e.push_back("global-batch must not be negative (got " + n(globalBatch) + ")");
    if (microBatch >= 1 && dp >= 1 && globalBatch > 0 && globalBatch % (microBatch * dp) != 0)
        e.push_back("global-batch (" + n(globalBatch) + ") must be a multiple of micro-batch x dp ("
                    + n(microBatch) + " x " + n(dp) + " = " + n(microBatch * dp) + ")");
    if (vpp > 1 && pp > 1 && microBatch >= 1 && dp >= 1 && microBatches() % pp != 0)
        e.push_back("the interleaved schedule (vpp = " + n(vpp) + ") needs micro-batches per step ("
                    + n(microBatches()) + ") to be a multiple of pp (" + n(pp) + ")");
    if (!stageLayers.empty()) {
        if (pp >= 1 && vpp >= 1 && int64_t(stageLayers.size()) != int64_t(pp) * vpp)
            e.push_back("stage-layers has " + n(int64_t(stageLayers.size())) + (stageLayers.size() == 1 ? " value (" : " values (") + formatStageLayers(stageLayers)
                        + ") but pp x vpp is " + n(pp) + " x " + n(vpp) + " = " + n(pp * vpp)
                        + ": give one layer count per virtual stage");
        for (int l : stageLayers)
            if (l < 1) {
                e.push_back("stage-layers (" + formatStageLayers(stageLayers) + ") must give every stage at least 1 layer");
                break;
            }
    }
    std::string orderError;
    if (!RankLayout::parseOrder(order, &orderError)) e.push_back(orderError);
    return e;
}

std::vector<std::string> Plan::validate(const ModelSpec& model, const ClusterSpec* cluster) const
{
    std::vector<std::string> e = validate();
    if (tp >= 1) {
        if (model.heads % tp != 0)
            e.push_back("heads (" + n(model.heads) + ") must be divisible by tp (" + n(tp) + ")");
        if (model.kvHeads % tp != 0)
            e.push_back("kv-heads (" + n(model.kvHeads) + ") must be divisible by tp (" + n(tp) + ")");
        if (model.ffn % tp != 0)
            e.push_back("ffn (" + n(model.ffn) + ") must be divisible by tp (" + n(tp) + ")");
        if (sp && seq % tp != 0)
            e.push_back("with sp, seq (" + n(seq) + ") must be divisible by tp (" + n(tp) + ")");
    }
    if (!stageLayers.empty()) {
        int64_t sum = 0;
        for (int l : stageLayers) sum += l;
        if (sum != model.layers)
            e.push_back("stage-layers (" + formatStageLayers(stageLayers) + ") add up to " + n(sum)
                        + " layers but the model has " + n(model.layers));
    } else if (pp >= 1 && vpp >= 1 && model.layers % (pp * vpp) != 0)
        e.push_back("layers (" + n(model.layers) + ") must be divisible by pp x vpp (" + n(pp) + " x "
                    + n(vpp) + " = " + n(pp * vpp) + "), or set stage-layers");
    if (pp >= 1 && vpp >= 1 && model.layers < pp * vpp)
        e.push_back("layers (" + n(model.layers) + ") must be at least pp x vpp (" + n(pp * vpp) + ")");
    if (cp > 1 && seq % (2 * cp) != 0)
        e.push_back("seq (" + n(seq) + ") must be divisible by 2 x cp (" + n(2 * cp)
                    + ") for load-balanced causal context parallelism");
    if (seq > model.maxSeq)
        e.push_back("seq (" + n(seq) + ") exceeds the model's maximum sequence (" + n(model.maxSeq) + ")");
    if (cluster) {
        if (worldSize() != cluster->worldSize())
            e.push_back("dp x tp x pp x cp (" + n(dp) + " x " + n(tp) + " x " + n(pp) + " x " + n(cp) + " = "
                        + n(worldSize()) + ") must equal the cluster's GPUs (" + n(cluster->nodes) + " nodes x "
                        + n(cluster->gpusPerNode) + " = " + n(cluster->worldSize()) + ")");
    }
    return e;
}

Json Plan::toJson() const
{
    Json j = Json::object();
    j.set("dp", dp).set("tp", tp).set("pp", pp).set("vpp", vpp).set("cp", cp).set("sp", sp);
    j.set("zero", zero).set("offload", toString(offload)).set("offload_fraction", offloadFraction);
    j.set("recompute", toString(recompute)).set("micro_batch", microBatch);
    j.set("global_batch", effectiveGlobalBatch()).set("seq", seq);
    j.set("precision", toString(precision)).set("grad_reduce", toString(gradReduce));
    j.set("optimizer", toString(optimizer)).set("order", order);
    if (!stageLayers.empty()) {
        Json a = Json::array();
        for (int l : stageLayers) a.push(l);
        j.set("stage_layers", std::move(a));
    }
    return j;
}

Plan Plan::fromJson(const Json& j)
{
    using namespace json_fields;
    const std::string ctx = "plan";
    if (!j.isObject()) throw SpecError("plan: expected a JSON object");
    Plan p;
    p.dp = static_cast<int>(optInt(j, "dp", 1, ctx));
    p.tp = static_cast<int>(optInt(j, "tp", 1, ctx));
    p.pp = static_cast<int>(optInt(j, "pp", 1, ctx));
    p.vpp = static_cast<int>(optInt(j, "vpp", 1, ctx));
    p.cp = static_cast<int>(optInt(j, "cp", 1, ctx));
    p.sp = optBool(j, "sp", false, ctx);
    p.zero = static_cast<int>(optInt(j, "zero", 0, ctx));
    p.offloadFraction = optNumber(j, "offload_fraction", 1.0, ctx);
    p.microBatch = optInt(j, "micro_batch", 1, ctx);
    p.globalBatch = optInt(j, "global_batch", 0, ctx);
    p.seq = optInt(j, "seq", 1024, ctx);
    p.order = optString(j, "order", p.order, ctx);
    if (const Json* a = j.find("stage_layers"); a && !a->isNull()) {
        if (!a->isArray()) throw SpecError("plan: key \"stage_layers\" must be an array of layer counts, found "
                                           + std::string(Json::typeName(a->type())));
        for (const Json& v : a->asArray()) {
            if (!v.isNumber() || std::fabs(v.asNumber()) > 1e6 || v.asNumber() != std::floor(v.asNumber()))
                throw SpecError("plan: key \"stage_layers\" must hold whole numbers (layers per virtual stage)");
            p.stageLayers.push_back(int(v.asNumber()));
        }
    }
    auto enumField = [&](const char* key, auto parse, auto& out, const char* allowed) {
        const std::string s = optString(j, key, toString(out), ctx);
        auto v = parse(s);
        if (!v) throw SpecError(std::string("plan: key \"") + key + "\" must be " + allowed + ", found \"" + s + "\"");
        out = *v;
    };
    enumField("offload", parseOffload, p.offload, "none, optimizer or optimizer+params");
    enumField("recompute", parseRecompute, p.recompute, "none, selective or full");
    enumField("precision", parsePrecision, p.precision, "bf16, fp16 or fp32");
    enumField("grad_reduce", parsePrecision, p.gradReduce, "fp32 or bf16");
    enumField("optimizer", parseOptimizer, p.optimizer, "adamw, lamb, lars or sgd");
    return p;
}

} // namespace meshwork
