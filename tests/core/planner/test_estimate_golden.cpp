// Plan in, estimate out: the whole estimate of a few representative plans against golden
// files (tests/core/planner/golden/*.json), so that any change to the models shows up as a
// reviewed diff. Numbers compare to a relative 1e-6 (compilers may contract floating-point
// operations differently). After an intended change, regenerate with
//   MESHWORK_UPDATE_GOLDEN=1 build/tests/test_estimate_golden
// and regenerate docs/validation.md as well (test_validation).
#include "PlannerFixtures.h"

#include "core/json/Json.h"

#include <cmath>
#include <fstream>
#include <sstream>

using namespace meshwork;
using namespace meshwork::fixtures;

namespace {

struct Case {
    const char* file;
    const char* model;
    const char* gpu;
    int nodes;
    Target target;
    Plan plan;
};

std::vector<Case> cases()
{
    std::vector<Case> out;
    Plan a = plan(1, 1, 1, 16, 16, 1024);
    out.push_back({"gpt2-124m-1xh100-meshwork", "gpt2-124m", "h100-sxm", 1, Target::Meshwork, a});
    Plan b = plan(16, 8, 4, 1, 1024, 4096);
    b.vpp = 5;
    b.sp = true;
    b.zero = 1;
    b.recompute = Recompute::Selective;
    out.push_back({"llama2-70b-64x8h100-tp8-pp4-vpp5-megatron", "llama2-70b", "h100-sxm", 64, Target::Megatron, b});
    Plan c = plan(8, 1, 1, 2, 64, 8192);
    c.cp = 2;
    c.zero = 3;
    c.offload = Offload::OptimizerParams;
    c.offloadFraction = 0.5;
    c.recompute = Recompute::Full;
    out.push_back({"llama3-8b-2x8a100-cp2-zero3-offload-meshwork", "llama3-8b", "a100-80gb", 2, Target::Meshwork, c});
    return out;
}

std::string path(const char* file)
{
    return std::string(MESHWORK_SOURCE_DIR) + "/tests/core/planner/golden/" + file + ".json";
}

// Same shape, same strings and booleans, numbers within a relative 1e-6.
bool same(const Json& a, const Json& b, const std::string& where, std::string* why)
{
    if (a.type() != b.type()) {
        *why = where + ": type differs";
        return false;
    }
    switch (a.type()) {
    case Json::Type::Number: {
        const double x = a.asNumber(), y = b.asNumber();
        if (std::abs(x - y) > 1e-6 * std::max(std::abs(x), std::abs(y)) + 1e-12) {
            *why = where + ": " + formatJsonNumber(x) + " != golden " + formatJsonNumber(y);
            return false;
        }
        return true;
    }
    case Json::Type::String:
        if (a.asString() != b.asString()) *why = where + ": \"" + a.asString() + "\" != golden \"" + b.asString() + "\"";
        return a.asString() == b.asString();
    case Json::Type::Bool:
        if (a.asBool() != b.asBool()) *why = where + ": boolean differs";
        return a.asBool() == b.asBool();
    case Json::Type::Array:
        if (a.size() != b.size()) {
            *why = where + ": " + std::to_string(a.size()) + " items, golden " + std::to_string(b.size());
            return false;
        }
        for (size_t i = 0; i < a.size(); ++i)
            if (!same(a.asArray()[i], b.asArray()[i], where + "[" + std::to_string(i) + "]", why)) return false;
        return true;
    case Json::Type::Object:
        if (a.size() != b.size()) {
            *why = where + ": " + std::to_string(a.size()) + " keys, golden " + std::to_string(b.size());
            return false;
        }
        for (const auto& [key, value] : a.asObject()) {
            const Json* other = b.find(key);
            if (!other) {
                *why = where + "." + key + ": not in the golden file";
                return false;
            }
            if (!same(value, *other, where + "." + key, why)) return false;
        }
        return true;
    case Json::Type::Null:
        return true;
    }
    return true;
}

} // namespace

class TestEstimateGolden : public QObject {
    Q_OBJECT
private slots:
    void golden_data()
    {
        QTest::addColumn<int>("index");
        const auto all = cases();
        for (size_t i = 0; i < all.size(); ++i) QTest::newRow(all[i].file) << int(i);
    }
    void golden()
    {
        QFETCH(int, index);
        const Case c = cases()[size_t(index)];
        Json j = Json::object();
        j.set("model", c.model).set("gpu", c.gpu).set("nodes", c.nodes).set("target", toString(c.target));
        j.set("plan", c.plan.toJson());
        j.set("estimate", estimateToJson(estimate(model(c.model), cluster(c.gpu, c.nodes), c.plan, c.target)));
        if (qEnvironmentVariableIsSet("MESHWORK_UPDATE_GOLDEN")) {
            std::ofstream f(path(c.file));
            f << j.dump(2) << "\n";
            QVERIFY(f.good());
            return;
        }
        std::ifstream f(path(c.file));
        QVERIFY2(f.good(), ("missing " + path(c.file) + ": run with MESHWORK_UPDATE_GOLDEN=1").c_str());
        std::stringstream text;
        text << f.rdbuf();
        std::string error;
        const auto golden = Json::parse(text.str(), &error);
        QVERIFY2(golden, error.c_str());
        std::string why;
        QVERIFY2(same(j, *golden, c.file, &why), why.c_str());
    }
};

QTEST_GUILESS_MAIN(TestEstimateGolden)
#include "test_estimate_golden.moc"
