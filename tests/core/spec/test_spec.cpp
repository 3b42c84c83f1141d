// ModelSpec parameter counts against published figures, catalogs, HF import, plan validation.
#include "core/json/Json.h"
#include "core/spec/Catalog.h"
#include "core/spec/HfConfig.h"
#include "core/spec/Options.h"
#include "core/spec/Plan.h"
#include "core/spec/SpecError.h"
#include "core/spec/StageLayers.h"

#include <QtTest>

using namespace meshwork;

class TestSpec : public QObject {
    Q_OBJECT
private slots:
    void publishedParameterCounts_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<qint64>("params");
        QTest::newRow("llama2-7b") << "llama2-7b" << qint64(6738415616);
        QTest::newRow("llama2-13b") << "llama2-13b" << qint64(13015864320);
        QTest::newRow("llama2-70b") << "llama2-70b" << qint64(68976648192);
        QTest::newRow("llama3-8b") << "llama3-8b" << qint64(8030261248);
        QTest::newRow("llama3-70b") << "llama3-70b" << qint64(70553706496);
        QTest::newRow("gpt2-124m") << "gpt2-124m" << qint64(124439808);
        QTest::newRow("mistral-7b") << "mistral-7b" << qint64(7241732096);
    }
    void publishedParameterCounts()
    {
        QFETCH(QString, model);
        QFETCH(qint64, params);
        auto m = findModel(model.toStdString());
        QVERIFY(m.has_value());
        QCOMPARE(qint64(m->parameterCount()), params);
    }

    void catalogHasEveryRequiredEntry()
    {
        for (const char* name : {"gpt2-124m", "gpt2-355m", "gpt2-774m", "gpt2-1.5b", "gpt3-175b", "llama2-7b",
                                 "llama2-13b", "llama2-70b", "llama3-8b", "llama3-70b", "llama3-405b",
                                 "mistral-7b", "qwen2-7b", "gpt-nano", "llama-nano"})
            QVERIFY2(findModel(name).has_value(), name);
        for (const char* id : {"h100-sxm", "h100-pcie", "h200", "h800", "a100-40gb", "a100-80gb", "a800", "l40s",
                               "rtx-4090", "b200"}) {
            auto g = findGpu(id);
            QVERIFY2(g.has_value(), id);
            QVERIFY2(!g->source.empty(), id);
            QVERIFY(g->bf16Tflops > 0 && g->hbmGBps > 0 && g->memoryGiB > 0);
        }
        QCOMPARE(findModel("gpt2-124m")->paddedVocab, int64_t(50304));
        QVERIFY(findModel("gpt2-124m")->allocatedParameterCount() > findModel("gpt2-124m")->parameterCount());
    }

    void hfImportLlama()
    {
        const char* text = R"({"model_type":"llama","hidden_size":4096,"intermediate_size":11008,
            "num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":32,"vocab_size":32000,
            "max_position_embeddings":4096,"rms_norm_eps":1e-05,"tie_word_embeddings":false})";
        ModelSpec m = modelFromHfConfig(text, "Llama-2-7b-hf");
        QCOMPARE(m.parameterCount(), int64_t(6738415616));
        QCOMPARE(m.normKind, NormKind::RmsNorm);
        QCOMPARE(m.name, std::string("Llama-2-7b-hf"));
    }

    void hfImportGpt2()
    {
        const char* text = R"({"model_type":"gpt2","n_embd":768,"n_head":12,"n_layer":12,"n_positions":1024,
            "vocab_size":50257,"n_inner":null})";
        QCOMPARE(modelFromHfConfig(text, "gpt2").parameterCount(), int64_t(124439808));
    }

    void hfImportErrorsNameTheKey_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << "{\"model_type\": llama" << "not valid JSON";
        QTest::newRow("missing key") << R"({"model_type":"llama","hidden_size":64})" << "num_hidden_layers";
        QTest::newRow("wrong type") << R"({"model_type":"gpt2","n_embd":"big","n_head":2,"n_layer":2,"vocab_size":10})" << "n_embd";
        QTest::newRow("negative") << R"({"model_type":"gpt2","n_embd":-5,"n_head":2,"n_layer":2,"vocab_size":10})" << "n_embd";
        QTest::newRow("huge") << R"({"model_type":"gpt2","n_embd":1e300,"n_head":2,"n_layer":2,"vocab_size":10})" << "n_embd";
        QTest::newRow("unknown family") << R"({"model_type":"bert"})" << "model_type";
        QTest::newRow("array top") << "[1,2,3]" << "object";
        QTest::newRow("deep nesting") << QString(10000, '[') << "nesting";
        QTest::newRow("heads") << R"({"model_type":"gpt2","n_embd":100,"n_head":3,"n_layer":2,"vocab_size":10})" << "divisible";
    }
    void hfImportErrorsNameTheKey()
    {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        try {
            modelFromHfConfig(text.toStdString(), "bad");
            QFAIL("expected an error");
        } catch (const SpecError& e) {
            QVERIFY2(QString(e.what()).contains(expected), e.what());
        }
    }

    void planValidationNamesEveryConstraint()
    {
        ModelSpec m = *findModel("llama2-7b");
        ClusterSpec c;
        c.gpu = *findGpu("h100-sxm");
        c.nodes = 1;
        c.gpusPerNode = 8;
        Plan p;
        p.tp = 3;
        p.pp = 3;
        p.dp = 1;
        p.vpp = 2;
        p.seq = 8192;
        p.globalBatch = 7;
        p.microBatch = 2;
        auto e = p.validate(m, &c);
        auto has = [&](const char* s) {
            for (auto& x : e) if (x.find(s) != std::string::npos) return true;
            return false;
        };
        QVERIFY(has("heads (32) must be divisible by tp (3)"));
        QVERIFY(has("layers (32) must be divisible by pp x vpp (3 x 2 = 6)"));
        QVERIFY(has("must equal the cluster's GPUs"));
        QVERIFY(has("global-batch (7) must be a multiple of micro-batch x dp"));
        QVERIFY(has("exceeds the model's maximum sequence (4096)"));
        Plan ok;
        ok.dp = 8;
        ok.seq = 4096;
        QVERIFY(ok.validate(m, &c).empty());
    }

    void planJsonRoundTrip()
    {
        Plan p;
        p.dp = 4; p.tp = 2; p.pp = 2; p.vpp = 2; p.sp = true; p.zero = 1; p.microBatch = 2; p.globalBatch = 64;
        p.offload = Offload::Optimizer; p.offloadFraction = 0.5; p.recompute = Recompute::Selective;
        p.precision = Precision::Fp16; p.optimizer = Optimizer::Lamb; p.order = "tp-dp-cp-pp";
        std::string err;
        auto j = Json::parse(p.toJson().dump(2), &err);
        QVERIFY2(j.has_value(), err.c_str());
        QCOMPARE(Plan::fromJson(*j), p);
    }

    // stage-layers: one layer count per virtual stage, in the plan's JSON, on the command line,
    // and in the layer ranges the planner and the trainer share (StageLayers.h).
    void stageLayersSplitTheModel()
    {
        const ModelSpec m = *findModel("gpt2-124m"); // 12 layers
        Plan p;
        p.pp = 2;
        QCOMPARE(layersOfPipelineRank(p, m.layers, 0), int64_t(6)); // even without a list
        p.stageLayers = {8, 4};
        QVERIFY(p.validate(m, nullptr).empty());
        QCOMPARE(layersOfPipelineRank(p, m.layers, 0), int64_t(8));
        QCOMPARE(layersOfPipelineRank(p, m.layers, 1), int64_t(4));
        QCOMPARE(firstLayerOfVirtualStage(p, m.layers, 1), int64_t(8));
        // Interleaved: rank r runs virtual stages r and pp + r.
        p.vpp = 2;
        p.globalBatch = 4;
        p.stageLayers = {4, 3, 3, 2};
        QVERIFY(p.validate(m, nullptr).empty());
        QCOMPARE(layersOfPipelineRank(p, m.layers, 0), int64_t(7));
        QCOMPARE(layersOfPipelineRank(p, m.layers, 1), int64_t(5));
        QCOMPARE(firstLayerOfVirtualStage(p, m.layers, 3), int64_t(10));

        // A split stated per rank (Llama 3: a layer less on the first and the last of 16) spread
        // over each rank's chunks, the earlier chunks taking the rest.
        QCOMPARE(stageLayersOfRanks({7, 8, 7}, 1), (std::vector<int>{7, 8, 7}));
        QCOMPARE(stageLayersOfRanks({7, 8, 7}, 2), (std::vector<int>{4, 4, 4, 3, 4, 3}));
        Plan ranks;
        ranks.pp = 3;
        ranks.vpp = 2;
        ranks.stageLayers = stageLayersOfRanks({7, 8, 7}, 2);
        for (int r = 0; r < 3; ++r) QCOMPARE(layersOfPipelineRank(ranks, 22, r), int64_t(r == 1 ? 8 : 7));

        auto has = [](const std::vector<std::string>& e, const char* s) {
            for (auto& x : e) if (x.find(s) != std::string::npos) return true;
            return false;
        };
        p.stageLayers = {8, 4};
        QVERIFY(has(p.validate(m, nullptr), "stage-layers has 2 values (8,4) but pp x vpp is 2 x 2 = 4"));
        p.vpp = 1;
        p.stageLayers = {12, 0};
        QVERIFY(has(p.validate(m, nullptr), "stage-layers (12,0) must give every stage at least 1 layer"));
        p.stageLayers = {8, 5};
        QVERIFY(has(p.validate(m, nullptr), "stage-layers (8,5) add up to 13 layers but the model has 12"));
        // A list makes any pp possible: 12 layers over 5 stages.
        p.pp = 5;
        p.stageLayers = {3, 3, 2, 2, 2};
        QVERIFY(p.validate(m, nullptr).empty());
        p.stageLayers.clear();
        QVERIFY(has(p.validate(m, nullptr), "must be divisible by pp x vpp (5 x 1 = 5), or set stage-layers"));

        // JSON: written only when set; read back; a bad value names the key.
        p.stageLayers = {3, 3, 2, 2, 2};
        QCOMPARE(Plan::fromJson(p.toJson()), p);
        QVERIFY(!Plan{}.toJson().contains("stage_layers"));
        Json bad = p.toJson();
        bad.set("stage_layers", Json("3,3"));
        try {
            Plan::fromJson(bad);
            QFAIL("a string stage_layers was accepted");
        } catch (const SpecError& e) {
            QVERIFY(QString(e.what()).contains("\"stage_layers\" must be an array"));
        }

        // Command line: "--stage-layers 8,4", round-tripped by planToArgs; bad lists named.
        const auto known = planOptions();
        Plan q;
        applyPlanOptions(parseArgs({"--pp", "2", "--stage-layers", "8,4"}, known), q);
        QCOMPARE(q.stageLayers, (std::vector<int>{8, 4}));
        Plan r;
        applyPlanOptions(parseArgs(planToArgs(q), known), r);
        QCOMPARE(r, q);
        applyPlanOptions(parseArgs({"--stage-layers", "even"}, known), q); // the default, named
        QVERIFY(q.stageLayers.empty());
        for (const char* text : {"8,x", "8,,4", "", "8;4"}) {
            try {
                applyPlanOptions(parseArgs({"--stage-layers", text}, known), q);
                QFAIL(qPrintable(QString("accepted --stage-layers \"%1\"").arg(text)));
            } catch (const SpecError& e) {
                QVERIFY2(QString(e.what()).contains("--stage-layers: expected layer counts separated by commas"), e.what());
            }
        }
    }

    void optionsParseAndReject()
    {
        auto known = planOptions();
        known.insert(known.end(), modelOptions().begin(), modelOptions().end());
        auto args = parseArgs({"--tp", "2", "--sp", "--zero=1", "--model", "llama-nano", "--precision", "fp32"}, known);
        Plan p;
        applyPlanOptions(args, p);
        QCOMPARE(p.tp, 2);
        QVERIFY(p.sp);
        QCOMPARE(p.zero, 1);
        QCOMPARE(p.precision, Precision::Fp32);
        ModelSpec m;
        applyModelOptions(args, m);
        QCOMPARE(m.name, std::string("llama-nano"));
        // planToArgs round-trips through the parser
        std::vector<std::string> back = planToArgs(p);
        Plan q;
        applyPlanOptions(parseArgs(back, known), q);
        QCOMPARE(q, p);

        QVERIFY_THROWS_EXCEPTION(SpecError, parseArgs({"--tpp", "2"}, known));
        try { parseArgs({"--tpp", "2"}, known); } catch (const SpecError& e) { QVERIFY(QString(e.what()).contains("did you mean --tp")); }
        QVERIFY_THROWS_EXCEPTION(SpecError, applyPlanOptions(parseArgs({"--tp", "two"}, known), p));
        QVERIFY_THROWS_EXCEPTION(SpecError, applyPlanOptions(parseArgs({"--precision", "fp8"}, known), p));
        QVERIFY_THROWS_EXCEPTION(SpecError, parseArgs({"--tp"}, known));
        QVERIFY_THROWS_EXCEPTION(SpecError, applyModelOptions(parseArgs({"--model", "nonexistent"}, known), m));
    }
};

QTEST_APPLESS_MAIN(TestSpec)
#include "test_spec.moc"
