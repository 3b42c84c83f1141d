#include "ui/PlanFile.h"

#include "core/json/Json.h"
#include "core/planner/Estimate.h"
#include "core/spec/Catalog.h"
#include "core/spec/SpecError.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace meshwork::ui {

namespace {

constexpr int kVersion = 1;
constexpr qint64 kMaxFileBytes = 16 * 1024 * 1024; // a plan is a few kB; refuse anything huge

double number(const Json& j, const char* key, double fallback)
{
    const Json* v = j.find(key);
    if (!v) return fallback;
    if (!v->isNumber())
        throw SpecError(std::string("cluster: key \"") + key + "\" must be a number, found " + Json::typeName(v->type()));
    return v->asNumber();
}

} // namespace

Json planStateToJson(const PlanState& s, const Estimate* estimate)
{
    Json cluster = Json::object();
    cluster.set("gpu", s.cluster.gpu.toJson());
    cluster.set("nodes", s.cluster.nodes).set("gpus_per_node", s.cluster.gpusPerNode);
    cluster.set("intra_gbps", s.cluster.intraNodeGBpsOverride).set("inter_gbps", s.cluster.interNodeGBpsOverride);
    cluster.set("price", s.cluster.pricePerGpuHour);

    Json j = Json::object();
    j.set("format", "meshwork-plan").set("version", kVersion);
    j.set("model", s.model.toJson());
    j.set("cluster", cluster);
    j.set("plan", s.plan.toJson());
    if (estimate) j.set("estimate", estimateToJson(*estimate));
    return j;
}

PlanState planStateFromJson(const Json& j)
{
    if (!j.isObject()) throw SpecError("expected a JSON object at the top");
    if (const Json* f = j.find("format"); f && (!f->isString() || f->asString() != "meshwork-plan"))
        throw SpecError("key \"format\" must be \"meshwork-plan\": this is not a Meshwork plan file");
    if (const Json* v = j.find("version"); v && v->isNumber() && v->asNumber() > kVersion)
        throw SpecError("the file is version " + formatJsonNumber(v->asNumber())
                        + ", newer than this Meshwork reads (" + std::to_string(kVersion) + "): update Meshwork");
    const Json* model = j.find("model");
    const Json* cluster = j.find("cluster");
    const Json* plan = j.find("plan");
    if (!model) throw SpecError("key \"model\" is missing");
    if (!cluster || !cluster->isObject()) throw SpecError("key \"cluster\" is missing or not an object");
    if (!plan) throw SpecError("key \"plan\" is missing");

    PlanState s;
    s.model = ModelSpec::fromJson(*model);
    const Json* gpu = cluster->find("gpu");
    if (!gpu) throw SpecError("cluster: key \"gpu\" is missing");
    if (gpu->isString()) { // a catalog id is accepted too, for hand-written files
        auto g = findGpu(gpu->asString());
        if (!g) throw SpecError("cluster: unknown GPU \"" + gpu->asString() + "\"; choose one of: " + gpuIds());
        s.cluster.gpu = *g;
    } else {
        s.cluster.gpu = GpuSpec::fromJson(*gpu);
    }
    s.cluster.nodes = static_cast<int>(number(*cluster, "nodes", 1));
    s.cluster.gpusPerNode = static_cast<int>(number(*cluster, "gpus_per_node", 8));
    if (s.cluster.nodes < 1 || s.cluster.nodes > 100000)
        throw SpecError("cluster: key \"nodes\" must be between 1 and 100000");
    if (s.cluster.gpusPerNode < 1 || s.cluster.gpusPerNode > 1024)
        throw SpecError("cluster: key \"gpus_per_node\" must be between 1 and 1024");
    s.cluster.intraNodeGBpsOverride = number(*cluster, "intra_gbps", 0);
    s.cluster.interNodeGBpsOverride = number(*cluster, "inter_gbps", 0);
    s.cluster.pricePerGpuHour = number(*cluster, "price", 0);
    s.plan = Plan::fromJson(*plan);
    if (s.plan.globalBatch <= 0) s.plan.globalBatch = s.plan.effectiveGlobalBatch();
    return s;
}

std::optional<PlanState> readPlanFile(const QString& path, QString* error)
{
    const QString name = QFileInfo(path).fileName();
    auto fail = [&](const QString& why) -> std::optional<PlanState> {
        if (error) *error = QStringLiteral("Could not open %1: %2").arg(name, why);
        return std::nullopt;
    };
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return fail(f.errorString());
    if (f.size() > kMaxFileBytes) return fail(QStringLiteral("the file is %1 MB, too large for a plan").arg(f.size() >> 20));
    const QByteArray bytes = f.readAll();
    std::string parseError;
    auto j = Json::parse(std::string_view(bytes.constData(), size_t(bytes.size())), &parseError);
    if (!j) return fail(QStringLiteral("it is not valid JSON (%1)").arg(QString::fromStdString(parseError)));
    try {
        return planStateFromJson(*j);
    } catch (const std::exception& e) {
        return fail(QString::fromStdString(e.what()));
    }
}

bool writePlanFile(const QString& path, const PlanState& state, const Estimate* estimate, QString* error)
{
    QSaveFile f(path);
    auto fail = [&](const QString& why) {
        if (error) *error = QStringLiteral("Could not save %1: %2").arg(QFileInfo(path).fileName(), why);
        return false;
    };
    if (!f.open(QIODevice::WriteOnly)) return fail(f.errorString());
    const std::string text = planStateToJson(state, estimate).dump(2) + "\n";
    if (f.write(text.data(), qint64(text.size())) != qint64(text.size())) return fail(f.errorString());
    if (!f.commit()) return fail(f.errorString());
    return true;
}

} // namespace meshwork::ui
