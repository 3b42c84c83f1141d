#include "core/json/Json.h"
#include "core/planner/Estimate.h"

namespace meshwork {

namespace {

Json strings(const std::vector<std::string>& v)
{
    Json a = Json::array();
    for (const std::string& s : v) a.push(s);
    return a;
}

Json stageJson(const StageMemory& s)
{
    Json j = Json::object();
    j.set("stage", s.stage).set("layers", s.layers);
    j.set("weights_gib", s.weights).set("gradients_gib", s.gradients).set("optimizer_gib", s.optimizer);
    j.set("activations_gib", s.activations).set("logits_gib", s.logits).set("buffers_gib", s.buffers);
    j.set("context_gib", s.context).set("reserve_gib", s.reserve).set("total_gib", s.total);
    j.set("host_gib", s.host);
    return j;
}

} // namespace

Json estimateToJson(const Estimate& e)
{
    Json j = Json::object();
    j.set("valid", e.valid);
    j.set("errors", strings(e.errors));
    j.set("warnings", strings(e.warnings));

    Json mem = Json::object();
    Json stages = Json::array();
    for (const StageMemory& s : e.memory.stages) stages.push(stageJson(s));
    mem.set("stages", std::move(stages));
    mem.set("fullest_stage", e.memory.fullestStage);
    mem.set("total_gib", e.memory.totalGiB);
    mem.set("capacity_gib", e.memory.capacityGiB);
    mem.set("host_gib", e.memory.hostGiB);
    mem.set("fits", e.memory.fits());
    j.set("memory", std::move(mem));

    const TimeEstimate& t = e.time;
    Json time = Json::object();
    time.set("compute_s", t.compute).set("attention_s", t.attention).set("memory_bound_s", t.memoryBound);
    time.set("recompute_s", t.recompute).set("tp_comm_s", t.tpComm).set("cp_comm_s", t.cpComm).set("host_s", t.host);
    time.set("pp_comm_s", t.ppComm).set("bubble_s", t.bubble).set("dp_comm_s", t.dpComm);
    time.set("dp_comm_total_s", t.dpCommTotal).set("optimizer_s", t.optimizer).set("step_s", t.step);
    j.set("time", std::move(time));

    Json tp = Json::object();
    tp.set("tokens_per_s", e.throughput.tokensPerS);
    tp.set("tflops_per_gpu", e.throughput.tflopsPerGpu);
    tp.set("hardware_tflops_per_gpu", e.throughput.hardwareTflopsPerGpu);
    tp.set("mfu", e.throughput.mfu);
    j.set("throughput", std::move(tp));
    j.set("flops_per_token", e.flopsPerToken);
    j.set("attention", e.flashAttention ? "flash" : "materialized");
    return j;
}

} // namespace meshwork
