// The training engine end to end on the CPU in fp32: the models match the planner's count
// and keep gradients in the flat buffer, the three recomputation modes give the same
// gradients, gpt-nano and llama-nano learn the synthetic corpus, a resumed run continues
// the uninterrupted one exactly, and a non-finite loss fails or is skipped as asked.
#include "core/events/EventWriter.h"
#include "core/json/Json.h"
#include "core/spec/Catalog.h"
#include "core/train/Model.h"
#include "core/train/TrainOptions.h"
#include "core/train/Trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>

using namespace meshwork;

namespace {

std::vector<std::string> split(const std::string& s)
{
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = s.find(' ', i);
        if (j == std::string::npos) j = s.size();
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

struct Run {
    RunResult result;
    std::vector<Json> events;
    std::vector<const Json*> of(const std::string& name) const
    {
        std::vector<const Json*> out;
        for (const auto& e : events)
            if (e.find("event") && e.find("event")->asString() == name) out.push_back(&e);
        return out;
    }
};

Run train(const std::string& args, const std::string& eventsPath)
{
    const TrainConfig config = parseTrainConfig(split(args + " --events " + eventsPath));
    TrainContext context;
    Run r;
    {
        EventWriter events(eventsPath, false);
        Trainer trainer(config, context, events);
        r.result = trainer.run();
    }
    std::ifstream in(eventsPath);
    std::string line;
    while (std::getline(in, line))
        if (auto j = Json::parse(line)) r.events.push_back(*j);
    return r;
}

double num(const Json* j, const char* key) { return j->find(key)->asNumber(); }

} // namespace

class TestTrainRun : public QObject {
    Q_OBJECT
private slots:
    // One thread: OpenMP barriers spin, which on a busy 2-core machine costs far more than it gains.
    void initTestCase() { at::set_num_threads(1); }

    void modelMatchesThePlannerAndKeepsGradientsFlat_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("gpt-nano") << "gpt-nano";
        QTest::newRow("llama-nano") << "llama-nano";
    }
    void modelMatchesThePlannerAndKeepsGradientsFlat()
    {
        QFETCH(QString, name);
        const ModelSpec spec = *findModel(name.toStdString());
        TransformerModel model(spec, Recompute::None, c10::Device(c10::kCPU));
        model.initialize(1);
        int64_t sum = 0;
        for (const auto& p : model.parameters()) sum += p.numel();
        QCOMPARE(sum, spec.allocatedParameterCount());
        QCOMPARE(model.parameterCount(), spec.allocatedParameterCount());

        const at::Tensor idx = at::randint(0, 256, {2, 16}, at::TensorOptions().dtype(at::kLong));
        const at::Tensor tgt = at::randint(0, 256, {2, 16}, at::TensorOptions().dtype(at::kLong));
        model.zeroGrad();
        at::Tensor loss = model.loss(idx, tgt);
        // Small random weights: the loss starts near ln(V).
        QVERIFY(std::abs(loss.item<double>() - std::log(256.0)) < 0.2);
        loss.backward();
        const float* base = model.flatGrads().data_ptr<float>();
        for (size_t i = 0; i < model.parameters().size(); ++i) {
            const auto& p = model.parameters()[i];
            QCOMPARE(static_cast<const void*>(p.grad().data_ptr<float>()),
                     static_cast<const void*>(base + model.layout().params[i].offset));
        }
        QVERIFY(model.flatGrads().norm().item<double>() > 0);
    }

    void recomputationGivesTheSameGradients_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("gpt-nano") << "gpt-nano";
        QTest::newRow("llama-nano") << "llama-nano";
    }
    void recomputationGivesTheSameGradients()
    {
        QFETCH(QString, name);
        const ModelSpec spec = *findModel(name.toStdString());
        const at::Tensor idx = at::randint(0, 256, {2, 32}, at::TensorOptions().dtype(at::kLong));
        const at::Tensor tgt = at::randint(0, 256, {2, 32}, at::TensorOptions().dtype(at::kLong));
        std::vector<at::Tensor> grads;
        std::vector<double> losses;
        for (Recompute r : {Recompute::None, Recompute::Selective, Recompute::Full}) {
            TransformerModel model(spec, r, c10::Device(c10::kCPU));
            model.initialize(3);
            model.zeroGrad();
            at::Tensor loss = model.loss(idx, tgt);
            loss.backward();
            losses.push_back(loss.item<double>());
            grads.push_back(model.flatGrads().clone());
        }
        for (size_t i = 1; i < grads.size(); ++i) {
            QCOMPARE(losses[i], losses[0]);
            const double rel = (grads[i] - grads[0]).norm().item<double>() / grads[0].norm().item<double>();
            QVERIFY2(rel < 1e-6, QByteArray::number(rel));
        }
    }

    void learnsTheSyntheticCorpus_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("optimizer");
        QTest::addColumn<QString>("lr");
        QTest::newRow("gpt-nano adamw") << "gpt-nano" << "adamw" << "3e-3";
        QTest::newRow("llama-nano adamw") << "llama-nano" << "adamw" << "3e-3";
        // LAMB scales each tensor's step by |w|/|u| (about 0.02 here): it takes a larger rate.
        QTest::newRow("gpt-nano lamb") << "gpt-nano" << "lamb" << "3e-2";
    }
    void learnsTheSyntheticCorpus()
    {
        QFETCH(QString, model);
        QFETCH(QString, optimizer);
        QFETCH(QString, lr);
        QTemporaryDir dir;
        const Run r = train("--model " + model.toStdString() + " --optimizer " + optimizer.toStdString()
                                + " --lr " + lr.toStdString()
                                + " --data synthetic --seq 64 --micro-batch 8 --steps 100 --warmup 10"
                                  " --eval-every 50 --eval-batches 4 --threads 1 --seed 5",
                            dir.filePath("events.jsonl").toStdString());
        QCOMPARE(int(r.result.status), int(RunStatus::Completed));
        const auto steps = r.of("step");
        const auto evals = r.of("eval");
        QCOMPARE(steps.size(), size_t(100));
        QCOMPARE(evals.size(), size_t(2));
        QCOMPARE(r.of("run_start").size(), size_t(1));
        QCOMPARE(num(r.of("run_start")[0], "parameters"), double(findModel(model.toStdString())->allocatedParameterCount()));
        const double first = num(steps.front(), "loss");
        const double val = num(evals.back(), "val_loss");
        qInfo("%s %s: first loss %.3f, validation loss after 100 steps %.3f (ln 256 = 5.545)",
              qPrintable(model), qPrintable(optimizer), first, val);
        QVERIFY(std::abs(first - std::log(256.0)) < 0.3);
        QVERIFY2(val < 2.0, QByteArray::number(val)); // well below the uniform 5.55 (the floor is ~0.94)
        QVERIFY(num(evals.back(), "val_loss") < num(evals.front(), "val_loss"));
        QCOMPARE(num(steps.back(), "tokens"), 100.0 * 8 * 64);
        QCOMPARE(num(steps.back(), "mfu"), 0.0); // the CPU has no catalog peak
        QCOMPARE(QString::fromStdString(r.of("run_end")[0]->find("status")->asString()), QString("completed"));
    }

    void resumeContinuesTheRunExactly_data()
    {
        QTest::addColumn<QString>("args");
        QTest::newRow("gpt adamw") << "--model gpt-nano --layers 2 --optimizer adamw";
        QTest::newRow("llama lamb") << "--model llama-nano --layers 2 --optimizer lamb";
        QTest::newRow("gpt lars recompute") << "--model gpt-nano --layers 2 --optimizer lars --lr 1 --recompute full";
    }
    void resumeContinuesTheRunExactly()
    {
        QFETCH(QString, args);
        QTemporaryDir dir;
        const std::string base = args.toStdString() + " --seq 32 --micro-batch 4 --global-batch 8 --steps 8 --warmup 2"
                                 " --threads 1 --checkpoint-every 4 --eval-every 0";
        const Run whole = train(base + " --checkpoint-dir " + dir.filePath("a").toStdString(),
                                dir.filePath("a.jsonl").toStdString());
        QCOMPARE(whole.of("checkpoint").size(), size_t(2));
        const std::string ckpt = whole.of("checkpoint")[0]->find("path")->asString();
        QVERIFY(ckpt.find("step_00000004.ckpt") != std::string::npos);
        const Run resumed = train(base + " --checkpoint-dir " + dir.filePath("b").toStdString() + " --resume=" + ckpt,
                                  dir.filePath("b.jsonl").toStdString());
        const auto a = whole.of("step"), b = resumed.of("step");
        QCOMPARE(a.size(), size_t(8));
        QCOMPARE(b.size(), size_t(4));
        for (size_t i = 0; i < 4; ++i) {
            QCOMPARE(num(b[i], "step"), num(a[i + 4], "step"));
            // Bit-for-bit: the same weights, optimizer states, step and data position.
            QCOMPARE(num(b[i], "loss"), num(a[i + 4], "loss"));
            QCOMPARE(num(b[i], "grad_norm"), num(a[i + 4], "grad_norm"));
            QCOMPARE(num(b[i], "lr"), num(a[i + 4], "lr"));
        }
        QCOMPARE(num(resumed.of("run_start")[0], "resumed_step"), 4.0);
    }

    void nonFiniteLossFailsOrIsSkipped()
    {
        QTemporaryDir dir;
        // Absurd decay and rate multiply the weights by about -1e12 per step (w <- w (1 - lr lambda)):
        // they overflow to inf within a few steps and the loss becomes NaN.
        const std::string base = "--model gpt-nano --layers 1 --seq 16 --micro-batch 2 --steps 8 --lr 1e6"
                                 " --weight-decay 1e6 --grad-clip 0 --threads 1";
        const Run failed = train(base, dir.filePath("a.jsonl").toStdString());
        QCOMPARE(int(failed.result.status), int(RunStatus::Failed));
        QCOMPARE(exitCode(failed.result), 1);
        QCOMPARE(failed.of("error").size(), size_t(1));
        QCOMPARE(QString::fromStdString(failed.of("error")[0]->find("kind")->asString()), QString("nan"));
        QVERIFY(failed.of("error")[0]->find("message")->asString().find("--skip-nonfinite") != std::string::npos);
        QCOMPARE(QString::fromStdString(failed.of("run_end")[0]->find("status")->asString()), QString("failed"));

        const Run skipped = train(base + " --skip-nonfinite", dir.filePath("b.jsonl").toStdString());
        QCOMPARE(int(skipped.result.status), int(RunStatus::Completed));
        QVERIFY(skipped.of("log").size() >= 1);
        QCOMPARE(skipped.of("error").size(), size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestTrainRun)
#include "test_train_run.moc"
