// Each optimizer's one step on small tensors against a direct computation in doubles with
// plain loops (the formulas of core/train/Optimizer.h), for two parameter tensors of which
// one decays (a matrix) and one does not (a norm gain).
#include "core/train/Optimizer.h"
#include "core/train/dist/ShardedOptimizer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <QtTest>

#include <cmath>
#include <memory>
#include <random>

using namespace meshwork;

namespace {

struct Case {
    ParameterLayout layout;
    std::vector<double> w, g;
};

// A 3x4 matrix (decays) followed by a 5-vector norm gain (does not).
Case makeCase(uint32_t seed)
{
    Case c;
    c.layout.params.push_back(ParamInfo{"m", {3, 4}, ParamRole::Linear, 0});
    c.layout.params.push_back(ParamInfo{"gain", {5}, ParamRole::NormWeight, 12});
    c.layout.totalElements = 17;
    c.layout.decayElements = 12;
    std::mt19937 rng(seed);
    std::normal_distribution<double> n(0.0, 1.0);
    for (int i = 0; i < 17; ++i) {
        c.w.push_back(n(rng));
        c.g.push_back(0.1 * n(rng));
    }
    return c;
}

at::Tensor toTensor(const std::vector<double>& v)
{
    return at::tensor(v, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
}

std::vector<double> toVector(const at::Tensor& t)
{
    at::Tensor d = t.to(at::kDouble).contiguous();
    return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

double norm(const std::vector<double>& v, size_t begin, size_t end)
{
    double s = 0;
    for (size_t i = begin; i < end; ++i) s += v[i] * v[i];
    return std::sqrt(s);
}

void compare(const std::vector<double>& got, const std::vector<double>& want)
{
    QCOMPARE(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        const double tol = 1e-6 * std::max(1.0, std::abs(want[i]));
        if (std::abs(got[i] - want[i]) > tol)
            QFAIL(qPrintable(QString("element %1: got %2, expected %3").arg(i).arg(got[i], 0, 'g', 10).arg(want[i], 0, 'g', 10)));
    }
}

const size_t kSegments[3] = {0, 12, 17};

} // namespace

class TestOptimizers : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { at::set_num_threads(1); }

    void oneStepMatchesTheFormula_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("steps");
        for (const char* k : {"adamw", "lamb", "lars", "sgd"}) {
            QTest::newRow((std::string(k) + " step 1").c_str()) << k << 1;
            QTest::newRow((std::string(k) + " step 3").c_str()) << k << 3;
        }
    }
    void oneStepMatchesTheFormula()
    {
        QFETCH(QString, kind);
        QFETCH(int, steps);
        Case c = makeCase(42);
        OptimizerConfig oc;
        oc.kind = *parseOptimizer(kind.toStdString());
        oc.beta1 = 0.9;
        oc.beta2 = 0.95;
        oc.eps = 1e-8;
        oc.weightDecay = 0.1;
        oc.momentum = 0.9;
        oc.larsTrust = 0.02;
        const double lr = 0.01;

        at::Tensor w = toTensor(c.w), g = toTensor(c.g);
        FlatOptimizer opt(oc, c.layout, w, g);
        // The same steps in doubles; the gradient changes between steps (g * (1 + t/10)).
        std::vector<double> W = toVector(w), M(17, 0.0), V(17, 0.0), Buf(17, 0.0);
        for (int t = 1; t <= steps; ++t) {
            std::vector<double> G = toVector(toTensor(c.g) * (1.0 + t / 10.0));
            g.copy_(toTensor(c.g) * (1.0 + t / 10.0));
            opt.step(lr);
            auto lambda = [&](size_t i) { return i < 12 ? oc.weightDecay : 0.0; };
            if (oc.kind == Optimizer::AdamW || oc.kind == Optimizer::Lamb) {
                std::vector<double> U(17);
                for (size_t i = 0; i < 17; ++i) {
                    M[i] = oc.beta1 * M[i] + (1 - oc.beta1) * G[i];
                    V[i] = oc.beta2 * V[i] + (1 - oc.beta2) * G[i] * G[i];
                    const double mh = M[i] / (1 - std::pow(oc.beta1, t));
                    const double vh = V[i] / (1 - std::pow(oc.beta2, t));
                    U[i] = mh / (std::sqrt(vh) + oc.eps) + lambda(i) * W[i];
                }
                for (int s = 0; s < 2; ++s) {
                    double r = 1.0;
                    if (oc.kind == Optimizer::Lamb) {
                        const double wn = norm(W, kSegments[s], kSegments[s + 1]);
                        const double un = norm(U, kSegments[s], kSegments[s + 1]);
                        r = (wn > 0 && un > 0) ? wn / un : 1.0;
                    }
                    for (size_t i = kSegments[s]; i < kSegments[s + 1]; ++i) W[i] -= lr * r * U[i];
                }
            } else {
                for (int s = 0; s < 2; ++s) {
                    double r = 1.0;
                    const double lam = lambda(kSegments[s]);
                    if (oc.kind == Optimizer::Lars) {
                        const double wn = norm(W, kSegments[s], kSegments[s + 1]);
                        const double gn = norm(G, kSegments[s], kSegments[s + 1]);
                        r = (wn > 0 && gn > 0) ? oc.larsTrust * wn / (gn + lam * wn + oc.eps) : 1.0;
                    }
                    for (size_t i = kSegments[s]; i < kSegments[s + 1]; ++i) {
                        const double d = G[i] + lam * W[i];
                        if (oc.kind == Optimizer::Lars) {
                            Buf[i] = oc.momentum * Buf[i] + lr * r * d;
                            W[i] -= Buf[i];
                        } else {
                            Buf[i] = oc.momentum * Buf[i] + d;
                            W[i] -= lr * Buf[i];
                        }
                    }
                }
            }
            compare(toVector(w), W);
        }
        QCOMPARE(opt.stepCount(), int64_t(steps));
        QCOMPARE(int(opt.states().size()), optimizerStatesPerParameter(oc.kind));
    }

    void slicesWithSummedNormsEqualTheWhole_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("lamb") << "lamb";
        QTest::newRow("lars") << "lars";
    }
    void slicesWithSummedNormsEqualTheWhole()
    {
        // ZeRO's view (ShardedOptimizer.h): the flat buffers cut into slices at 5 and 14, so the
        // matrix [0, 12) and the gain [12, 17) each lie in two slices. Each slice's optimizer gives
        // the squared norms of its pieces; summed per tensor (what the dp all-reduce does), every
        // slice takes its whole tensor's trust ratio, and three steps equal one optimizer over
        // the whole buffer.
        QFETCH(QString, kind);
        Case c = makeCase(11);
        OptimizerConfig oc;
        oc.kind = *parseOptimizer(kind.toStdString());
        oc.weightDecay = 0.1;
        oc.larsTrust = 1.0;
        const double lr = 0.05;
        at::Tensor wWhole = toTensor(c.w), gWhole = toTensor(c.g);
        at::Tensor wSliced = toTensor(c.w), gSliced = toTensor(c.g), wAlone = toTensor(c.w), gAlone = toTensor(c.g);
        FlatOptimizer whole(oc, c.layout, wWhole, gWhole);
        const std::vector<int64_t> cuts{0, 5, 14, 17};
        std::vector<std::unique_ptr<FlatOptimizer>> summed, alone;
        std::vector<at::Tensor> tensorIds;
        for (size_t k = 0; k + 1 < cuts.size(); ++k) {
            const int64_t b = cuts[k], n = cuts[k + 1] - cuts[k];
            const ParameterLayout slice = sliceLayout(c.layout, b, b + n);
            std::vector<int64_t> ids;
            for (const ParamInfo& p : slice.params) ids.push_back(c.layout.find(p.name) - c.layout.params.data());
            tensorIds.push_back(at::tensor(ids, at::TensorOptions().dtype(at::kLong)));
            summed.push_back(std::make_unique<FlatOptimizer>(oc, slice, wSliced.narrow(0, b, n), gSliced.narrow(0, b, n)));
            alone.push_back(std::make_unique<FlatOptimizer>(oc, slice, wAlone.narrow(0, b, n), gAlone.narrow(0, b, n)));
        }
        for (int t = 1; t <= 3; ++t) {
            const at::Tensor g = toTensor(c.g) * (1.0 + t / 10.0);
            gWhole.copy_(g), gSliced.copy_(g), gAlone.copy_(g);
            whole.step(lr);
            at::Tensor sums = at::zeros({2, int64_t(c.layout.params.size())});
            std::vector<at::Tensor> parts;
            for (size_t k = 0; k < summed.size(); ++k) {
                parts.push_back(summed[k]->beginStep());
                sums.index_add_(1, tensorIds[k], parts.back());
            }
            for (size_t k = 0; k < summed.size(); ++k) summed[k]->finishStep(lr, sums.index_select(1, tensorIds[k]));
            for (auto& o : alone) o->step(lr);
            compare(toVector(wSliced), toVector(wWhole));
        }
        // Without the sum each slice scales by its own piece's norms: another optimizer, which
        // this test would tell apart.
        const auto a = toVector(wAlone), w = toVector(wWhole);
        double worst = 0;
        for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - w[i]));
        QVERIFY2(worst > 1e-3, qPrintable(QString("per-slice norms differ by only %1").arg(worst)));
    }

    void lambTrustRatioIsOneForZeroWeights()
    {
        // A tensor of zero weights has |w| = 0: r = 1, so the step is the plain Adam update.
        Case c = makeCase(7);
        for (size_t i = 12; i < 17; ++i) c.w[i] = 0.0;
        OptimizerConfig oc;
        oc.kind = Optimizer::Lamb;
        oc.weightDecay = 0.0;
        at::Tensor w = toTensor(c.w), g = toTensor(c.g);
        FlatOptimizer opt(oc, c.layout, w, g);
        opt.step(0.5);
        const auto got = toVector(w);
        for (size_t i = 12; i < 17; ++i) {
            // First Adam step: m^ = g, v^ = g^2, u = g / (|g| + eps) ~ sign(g).
            const double u = c.g[i] / (std::abs(c.g[i]) + oc.eps);
            QVERIFY(std::abs(got[i] - (-0.5 * u)) < 1e-5);
        }
    }
};

QTEST_GUILESS_MAIN(TestOptimizers)
#include "test_optimizers.moc"
