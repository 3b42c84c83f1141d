// The torch-free half of the training core: parameter layout and buffer sizes against the
// planner's count, flag parsing, the learning-rate schedule, GPU matching, and the data:
// synthetic corpus, llm.c and text files, every data-file error path, sharding by dp rank.
#include "core/spec/Catalog.h"
#include "core/spec/SpecError.h"
#include "core/train/GpuMatch.h"
#include "core/train/LrSchedule.h"
#include "core/train/ParameterLayout.h"
#include "core/train/TokenData.h"
#include "core/train/TrainError.h"
#include "core/train/TrainOptions.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

using namespace meshwork;

namespace {

void writeBytes(const std::string& path, const std::vector<char>& bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<char> llmcFile(int32_t magic, int32_t version, int32_t count, const std::vector<uint16_t>& tokens)
{
    std::vector<int32_t> header(256, 0);
    header[0] = magic;
    header[1] = version;
    header[2] = count;
    std::vector<char> bytes(reinterpret_cast<const char*>(header.data()),
                            reinterpret_cast<const char*>(header.data()) + 1024);
    bytes.insert(bytes.end(), reinterpret_cast<const char*>(tokens.data()),
                 reinterpret_cast<const char*>(tokens.data()) + 2 * tokens.size());
    return bytes;
}

// Runs fn and returns the TrainError it throws (fails the test when it throws none).
template <typename Fn>
TrainError expectTrainError(Fn fn)
{
    try {
        fn();
    } catch (const TrainError& e) {
        return e;
    }
    qFatal("expected a TrainError");
}

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

} // namespace

class TestTrainSetup : public QObject {
    Q_OBJECT
private slots:
    void layoutMatchesThePlannersCount_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto& m : modelCatalog()) QTest::newRow(m.name.c_str()) << QString::fromStdString(m.name);
    }
    void layoutMatchesThePlannersCount()
    {
        QFETCH(QString, name);
        const ModelSpec m = *findModel(name.toStdString());
        const ParameterLayout layout = parameterLayout(m);
        QCOMPARE(layout.totalElements, m.allocatedParameterCount());
        // Offsets tile the flat buffer with no gap; decaying tensors form its prefix.
        int64_t offset = 0;
        bool inPrefix = true;
        std::set<std::string> names;
        for (const auto& p : layout.params) {
            QCOMPARE(p.offset, offset);
            offset += p.numel();
            if (!p.decays()) inPrefix = false;
            QVERIFY2(p.decays() ? inPrefix : true, p.name.c_str());
            QVERIFY(names.insert(p.name).second);
        }
        QCOMPARE(offset, layout.totalElements);
        QVERIFY(layout.decayElements > 0 && layout.decayElements < layout.totalElements);
        QCOMPARE(layout.find("lm_head") != nullptr, !m.tiedEmbeddings);
        QCOMPARE(layout.find("wpe") != nullptr, m.positionKind == PositionKind::Learned);
    }

    void gpt2SmallHasItsKnownSize()
    {
        // GPT-2 124M with the vocabulary padded to 50304 (as llm.c): 124,475,904 parameters.
        const ModelSpec m = *findModel("gpt2-124m");
        QCOMPARE(m.paddedVocab, int64_t(50304));
        QCOMPARE(parameterLayout(m).totalElements, int64_t(124475904));
    }

    void buffersAreSizedInOnePlace_data()
    {
        QTest::addColumn<QString>("optimizer");
        QTest::addColumn<int>("states");
        QTest::newRow("adamw") << "adamw" << 2;
        QTest::newRow("lamb") << "lamb" << 2;
        QTest::newRow("lars") << "lars" << 1;
        QTest::newRow("sgd") << "sgd" << 1;
    }
    void buffersAreSizedInOnePlace()
    {
        QFETCH(QString, optimizer);
        QFETCH(int, states);
        const ModelSpec m = *findModel("llama-nano");
        Plan plan;
        plan.optimizer = *parseOptimizer(optimizer.toStdString());
        const TrainBuffers b = trainBuffers(m, plan);
        const int64_t n = m.allocatedParameterCount();
        QCOMPARE(b.parameters, n);
        QCOMPARE(b.masterBytes, 4 * n);
        QCOMPARE(b.gradientBytes, 4 * n);
        QCOMPARE(b.optimizerBytes, 4 * n * states);
        QCOMPARE(b.totalBytes(), 4 * n * (2 + states));
    }

    void flagsParse()
    {
        const TrainConfig c = parseTrainConfig(split(
            "--model gpt-nano --micro-batch 4 --seq 64 --optimizer lamb --recompute full --lr 1e-3 --min-lr 0 "
            "--warmup 5 --steps 50 --seed 7 --eval-every 10 --checkpoint-every 25 --checkpoint-dir /tmp/c "
            "--events /tmp/e.jsonl --run-id r7 --skip-nonfinite --data synthetic --threads 1"));
        QCOMPARE(c.model.name, std::string("gpt-nano"));
        QCOMPARE(c.plan.microBatch, int64_t(4));
        QCOMPARE(c.plan.seq, int64_t(64));
        QCOMPARE(c.plan.optimizer, Optimizer::Lamb);
        QCOMPARE(c.plan.recompute, Recompute::Full);
        QCOMPARE(c.plan.precision, Precision::Fp32); // the CPU default
        QCOMPARE(c.lr, 1e-3);
        QCOMPARE(c.effectiveMinLr(), 0.0);
        QCOMPARE(c.warmup, int64_t(5));
        QCOMPARE(c.steps, int64_t(50));
        QCOMPARE(c.seed, uint64_t(7));
        QCOMPARE(c.evalEvery, int64_t(10));
        QCOMPARE(c.checkpointEvery, int64_t(25));
        QCOMPARE(c.checkpointDir, std::string("/tmp/c"));
        QCOMPARE(c.eventsPath, std::string("/tmp/e.jsonl"));
        QCOMPARE(c.runId, std::string("r7"));
        QVERIFY(c.skipNonfinite);
        QVERIFY(!c.resume);
        QCOMPARE(c.threads, 1);
        const TrainConfig r = parseTrainConfig(split("--model llama-nano --resume=/tmp/x.ckpt --layers 2"));
        QVERIFY(r.resume);
        QCOMPARE(r.resumeFrom, std::string("/tmp/x.ckpt"));
        QCOMPARE(r.model.layers, int64_t(2));
        QCOMPARE(r.model.name, std::string("llama-nano*"));
        QCOMPARE(r.plan.seq, int64_t(256)); // without --seq: the model's maximum when below 1024
    }

    void badFlagsSayWhatToFix_data()
    {
        QTest::addColumn<QString>("args");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no model") << "--steps 3" << "--model is required";
        QTest::newRow("unknown") << "--model gpt-nano --stepz 3" << "did you mean --steps";
        QTest::newRow("bad number") << "--model gpt-nano --lr fast" << "--lr: expected a number";
        QTest::newRow("bad device") << "--model gpt-nano --device tpu" << "expected cpu or cuda";
        QTest::newRow("bf16 on cpu") << "--model gpt-nano --precision bf16" << "needs --device cuda";
        QTest::newRow("seq too long") << "--model gpt-nano --seq 512" << "exceeds the model's maximum";
        QTest::newRow("negative steps") << "--model gpt-nano --steps -1" << "--steps must be at least 0";
        QTest::newRow("cp") << "--model gpt-nano --cp 2" << "is not in this trainer yet"; // tp/pp/dp run distributed (issue #4)
        QTest::newRow("bad optimizer") << "--model gpt-nano --optimizer adam" << "adamw, lamb, lars or sgd";
        QTest::newRow("missing value") << "--model gpt-nano --seed" << "--seed needs a value";
        QTest::newRow("warmup") << "--model gpt-nano --steps 5 --warmup 9" << "--warmup (9) must not exceed";
    }
    void badFlagsSayWhatToFix()
    {
        QFETCH(QString, args);
        QFETCH(QString, expected);
        try {
            parseTrainConfig(split(args.toStdString()));
            QFAIL("expected a SpecError");
        } catch (const SpecError& e) {
            QVERIFY2(std::string(e.what()).find(expected.toStdString()) != std::string::npos, e.what());
        }
    }

    void lrScheduleWarmsUpThenFollowsTheCosine()
    {
        const LrSchedule s{1.0, 0.1, 10, 110};
        QCOMPARE(s.at(1), 0.1);
        QCOMPARE(s.at(5), 0.5);
        QCOMPARE(s.at(10), 1.0);
        QVERIFY(std::abs(s.at(60) - 0.55) < 1e-12);   // half way: (1 + 0.1) / 2
        QVERIFY(std::abs(s.at(110) - 0.1) < 1e-12);
        for (int64_t t = 11; t < 110; ++t) QVERIFY(s.at(t + 1) <= s.at(t));
    }

    void gpuNamesMatchTheCatalog_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<double>("gib");
        QTest::addColumn<QString>("id");
        QTest::newRow("h100 sxm") << "NVIDIA H100 80GB HBM3" << 79.2 << "h100-sxm";
        QTest::newRow("h100 pcie") << "NVIDIA H100 PCIe" << 79.6 << "h100-pcie";
        QTest::newRow("h200") << "NVIDIA H200" << 139.8 << "h200";
        QTest::newRow("a100 40") << "NVIDIA A100-SXM4-40GB" << 39.4 << "a100-40gb";
        QTest::newRow("a100 80") << "NVIDIA A100-SXM4-80GB" << 79.2 << "a100-80gb";
        QTest::newRow("4090") << "NVIDIA GeForce RTX 4090" << 23.6 << "rtx-4090";
        QTest::newRow("unknown") << "Tesla T4" << 15.0 << "";
    }
    void gpuNamesMatchTheCatalog()
    {
        QFETCH(QString, name);
        QFETCH(double, gib);
        QFETCH(QString, id);
        const auto gpu = matchCatalogGpu(name.toStdString(), gib);
        QCOMPARE(gpu ? QString::fromStdString(gpu->id) : QString(), id);
    }

    void syntheticCorpusIsDeterministicAndStructured()
    {
        const auto a = syntheticTokens(200000, 256, 1);
        QVERIFY(a == syntheticTokens(200000, 256, 1));
        QVERIFY(a != syntheticTokens(200000, 256, 2));
        // Every token has at most 4 successors; given the two previous tokens one successor
        // has about 70% of the mass: conditional entropy well below ln(256) = 5.55.
        std::map<std::pair<int, int>, std::map<int, int>> counts;
        std::map<int, std::set<int>> successors;
        for (size_t t = 2; t < a.size(); ++t) {
            QVERIFY(a[t] >= 0 && a[t] < 256);
            counts[{a[t - 2], a[t - 1]}][a[t]]++;
            successors[a[t - 1]].insert(a[t]);
        }
        for (const auto& [tok, s] : successors) QVERIFY(s.size() <= 4);
        double h = 0, n = double(a.size() - 2);
        for (const auto& [ctx, next] : counts) {
            double total = 0;
            for (const auto& [tok, k] : next) total += k;
            for (const auto& [tok, k] : next) h -= k / n * std::log(k / total);
        }
        QVERIFY2(h > 0.7 && h < 1.1, QByteArray::number(h));
        // Large vocabularies work without tables.
        for (int32_t t : syntheticTokens(1000, 128256, 3)) QVERIFY(t >= 0 && t < 128256);
    }

    void llmcAndTextFilesLoad()
    {
        QTemporaryDir dir;
        const std::string bin = dir.filePath("tokens.bin").toStdString();
        std::vector<uint16_t> toks;
        for (int i = 0; i < 1000; ++i) toks.push_back(uint16_t(i % 300));
        writeBytes(bin, llmcFile(kLlmcMagic, 1, 1000, toks));
        const auto got = readTokenFile(bin, 512);
        QCOMPARE(got.size(), size_t(1000));
        for (size_t i = 0; i < got.size(); ++i) QCOMPARE(got[i], int32_t(toks[i]));

        const std::string txt = dir.filePath("a.txt").toStdString();
        writeBytes(txt, {'h', 'i', '\n', char(0xff)});
        const auto bytes = readTokenFile(txt, 256);
        QCOMPARE(bytes, (std::vector<int32_t>{'h', 'i', '\n', 255}));

        const TokenDataset d = loadDataset(bin, 512, 1, 0.1);
        QCOMPARE(d.train.size(), size_t(900));
        QCOMPARE(d.val.size(), size_t(100));
        QCOMPARE(d.val.front(), int32_t(toks[900]));
    }

    void dataFileErrorsNameTheFileAndTheProblem_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("vocab");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing") << "missing.bin" << 512 << "io" << "cannot open it";
        QTest::newRow("short header") << "short.bin" << 512 << "io" << "truncated: an llm.c token file starts with a 1024-byte header";
        QTest::newRow("truncated tokens") << "cut.bin" << 512 << "io" << "truncated: the header says 1000 tokens";
        QTest::newRow("wrong magic") << "magic.bin" << 512 << "io" << "wrong magic number 12345";
        QTest::newRow("wrong version") << "version.bin" << 512 << "io" << "unsupported version 2";
        QTest::newRow("beyond vocab") << "tokens.bin" << 256 << "config" << "token id 256 at position 256 is beyond the model's vocabulary (256)";
        QTest::newRow("text small vocab") << "a.txt" << 128 << "config" << "use --vocab 256 or more";
    }
    void dataFileErrorsNameTheFileAndTheProblem()
    {
        QFETCH(QString, file);
        QFETCH(int, vocab);
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        std::vector<uint16_t> toks;
        for (int i = 0; i < 1000; ++i) toks.push_back(uint16_t(i % 300));
        writeBytes(dir.filePath("short.bin").toStdString(), std::vector<char>(100, 'x'));
        auto cut = llmcFile(kLlmcMagic, 1, 1000, toks);
        cut.resize(cut.size() - 10);
        writeBytes(dir.filePath("cut.bin").toStdString(), cut);
        writeBytes(dir.filePath("magic.bin").toStdString(), llmcFile(12345, 1, 1000, toks));
        writeBytes(dir.filePath("version.bin").toStdString(), llmcFile(kLlmcMagic, 2, 1000, toks));
        writeBytes(dir.filePath("tokens.bin").toStdString(), llmcFile(kLlmcMagic, 1, 1000, toks));
        writeBytes(dir.filePath("a.txt").toStdString(), {'a', 'b'});
        const std::string path = dir.filePath(file).toStdString();
        const TrainError e = expectTrainError([&] { loadDataset(path, vocab, 1, 0.1); });
        QCOMPARE(QString(toString(e.kind())), kind);
        const std::string msg = e.what();
        QVERIFY2(msg.find(path) != std::string::npos, msg.c_str());
        QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
    }

    void loaderShardsByDataParallelRank()
    {
        std::vector<int32_t> tokens(1000);
        for (int i = 0; i < 1000; ++i) tokens[size_t(i)] = i;
        const int64_t B = 2, T = 8;
        std::vector<int32_t> x(16), y(16), x1(16), y1(16);
        TokenLoader r0(tokens, B, T, 0, 2, "training"), r1(tokens, B, T, 1, 2, "training");
        for (int step = 0; step < 3; ++step) {
            r0.next(x.data(), y.data());
            r1.next(x1.data(), y1.data());
            // Rank 1 reads the window after rank 0's; targets are inputs shifted by one.
            QCOMPARE(x[0], int32_t(step * 32));
            QCOMPARE(x1[0], int32_t(step * 32 + 16));
            for (int i = 0; i < 16; ++i) {
                QCOMPARE(y[size_t(i)], x[size_t(i)] + 1);
                QCOMPARE(y1[size_t(i)], x1[size_t(i)] + 1);
            }
        }
        QCOMPARE(r0.position(), int64_t(96));
        // Wraps to the start when the next global micro-batch does not fit.
        r0.setPosition(1000 - 20);
        r0.next(x.data(), y.data());
        QCOMPARE(x[0], 0);
        // A split too small for one step is a config error with the numbers.
        const TrainError e = expectTrainError([&] { TokenLoader tiny(std::vector<int32_t>(10), 2, 8, 0, 1, "validation"); });
        QCOMPARE(e.kind(), TrainErrorKind::Config);
        QVERIFY(std::string(e.what()).find("validation split has 10 tokens") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestTrainSetup)
#include "test_train_setup.moc"
