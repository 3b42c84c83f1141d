#include "core/spec/GpuSpec.h"

#include "core/json/Json.h"
#include "core/spec/JsonFields.h"
#include "core/spec/Plan.h"
#include "core/spec/SpecError.h"

namespace meshwork {

double GpuSpec::peakTflops(Precision p) const
{
    switch (p) {
    case Precision::Bf16: return bf16Tflops;
    case Precision::Fp16: return fp16Tflops;
    case Precision::Fp32: return tf32Tflops > 0 ? tf32Tflops : fp32Tflops;
    }
    return bf16Tflops;
}

Json GpuSpec::toJson() const
{
    Json j = Json::object();
    j.set("id", id).set("name", name).set("memory_gib", memoryGiB);
    j.set("bf16_tflops", bf16Tflops).set("fp16_tflops", fp16Tflops).set("tf32_tflops", tf32Tflops);
    j.set("fp32_tflops", fp32Tflops).set("fp8_tflops", fp8Tflops).set("hbm_gbps", hbmGBps);
    j.set("intra_node_gbps", intraNodeGBps).set("intra_node_link", intraNodeLink);
    j.set("inter_node_gbps", interNodeGBps).set("sm_count", smCount).set("source", source);
    return j;
}

GpuSpec GpuSpec::fromJson(const Json& j)
{
    using namespace json_fields;
    if (!j.isObject()) throw SpecError("gpu: expected a JSON object");
    GpuSpec g;
    g.id = optString(j, "id", "", "gpu");
    if (g.id.empty()) throw SpecError("gpu: key \"id\" is missing");
    const std::string ctx = "gpu \"" + g.id + "\"";
    g.name = optString(j, "name", g.id, ctx);
    g.memoryGiB = optNumber(j, "memory_gib", 0, ctx);
    g.bf16Tflops = optNumber(j, "bf16_tflops", 0, ctx);
    g.fp16Tflops = optNumber(j, "fp16_tflops", g.bf16Tflops, ctx);
    g.tf32Tflops = optNumber(j, "tf32_tflops", 0, ctx);
    g.fp32Tflops = optNumber(j, "fp32_tflops", 0, ctx);
    g.fp8Tflops = optNumber(j, "fp8_tflops", 0, ctx);
    g.hbmGBps = optNumber(j, "hbm_gbps", 0, ctx);
    g.intraNodeGBps = optNumber(j, "intra_node_gbps", 0, ctx);
    g.intraNodeLink = optString(j, "intra_node_link", "", ctx);
    g.interNodeGBps = optNumber(j, "inter_node_gbps", 0, ctx);
    g.smCount = static_cast<int>(optInt(j, "sm_count", 0, ctx));
    g.source = optString(j, "source", "", ctx);
    if (g.memoryGiB <= 0) throw SpecError(ctx + ": key \"memory_gib\" must be positive");
    if (g.bf16Tflops <= 0) throw SpecError(ctx + ": key \"bf16_tflops\" must be positive");
    if (g.hbmGBps <= 0) throw SpecError(ctx + ": key \"hbm_gbps\" must be positive");
    return g;
}

} // namespace meshwork
