// Export to Megatron-LM, DeepSpeed, Colossal-AI and torchtitan.
// Golden files (tests/data/export): a plan in (<case>.plan.json), the exported text out
// (<case>.<format>.<ext>). MESHWORK_UPDATE_GOLDEN=1 rewrites the expected files.
// Besides the goldens, each format is checked for meaning: the values derive from the plan,
// the text parses in its own language (bash -n, Python's ast, tomllib) where those exist.
#include "core/json/Json.h"
#include "core/planner/Export.h"
#include "core/spec/Catalog.h"
#include "core/spec/SpecError.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace meshwork;

namespace {

const QString kDataDir = QStringLiteral(MESHWORK_SOURCE_DIR "/tests/data/export");

struct Case {
    ModelSpec model;
    ClusterSpec cluster;
    Plan plan;
};

Case loadCase(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) throw SpecError("cannot read " + path.toStdString());
    std::string error;
    auto j = Json::parse(f.readAll().toStdString(), &error);
    if (!j) throw SpecError(path.toStdString() + ": " + error);
    Case c;
    c.model = *findModel((*j)["model"].asString());
    c.cluster.gpu = *findGpu((*j)["gpu"].asString());
    c.cluster.nodes = static_cast<int>((*j)["nodes"].asNumber());
    c.cluster.gpusPerNode = static_cast<int>((*j)["gpus_per_node"].asNumber());
    c.plan = Plan::fromJson((*j)["plan"]);
    return c;
}

Case makeCase(const char* model, int nodes, int gpusPerNode, Plan plan)
{
    Case c;
    c.model = *findModel(model);
    c.cluster.gpu = *findGpu("h100-sxm");
    c.cluster.nodes = nodes;
    c.cluster.gpusPerNode = gpusPerNode;
    c.plan = plan;
    return c;
}

QString extensionOf(ExportFormat f)
{
    switch (f) {
    case ExportFormat::Megatron: return "megatron.sh";
    case ExportFormat::DeepSpeed: return "deepspeed.sh";
    case ExportFormat::ColossalAI: return "colossalai.py";
    case ExportFormat::Torchtitan: return "torchtitan.toml";
    }
    return {};
}

// The JSON between "cat > ds_config.json <<'EOF'" and "EOF".
Json deepSpeedConfig(const std::string& text)
{
    const std::string open = "cat > ds_config.json <<'EOF'\n";
    const auto a = text.find(open);
    const auto b = text.find("\nEOF\n", a);
    if (a == std::string::npos || b == std::string::npos) return Json();
    std::string error;
    auto j = Json::parse(text.substr(a + open.size(), b - a - open.size()), &error);
    if (!j) qWarning("ds_config.json does not parse: %s", error.c_str());
    return j ? *j : Json();
}

// Runs a checker on the text; returns its exit code, or -1 when the tool is missing.
int checkWith(const QString& program, const QStringList& args, const std::string& text, QString* output)
{
    if (QStandardPaths::findExecutable(program).isEmpty()) return -1;
    QProcess p;
    p.start(program, args);
    if (!p.waitForStarted(5000)) return -1;
    p.write(QByteArray::fromStdString(text));
    p.closeWriteChannel();
    p.waitForFinished(20000);
    *output = QString::fromUtf8(p.readAllStandardError() + p.readAllStandardOutput());
    return p.exitCode();
}

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

// exportPlan that never lets an exception escape into Qt Test (which would abort the run):
// a refused plan comes back as text that no check matches, and the reason is logged.
std::string exported(const Case& c, ExportFormat f)
{
    try {
        return exportPlan(c.model, c.cluster, c.plan, f);
    } catch (const std::exception& e) {
        qWarning("export refused: %s", e.what());
        return std::string("EXPORT REFUSED: ") + e.what();
    }
}

} // namespace

class TestExport : public QObject {
    Q_OBJECT

private slots:
    void golden_data();
    void golden();
    void parsesInItsLanguage_data();
    void parsesInItsLanguage();
    void formatNames();
    void megatronFlags();
    void deepSpeedBatchArithmetic_data();
    void deepSpeedBatchArithmetic();
    void deepSpeedSaysWhatItCannotExpress();
    void colossalAiPlugin();
    void torchtitanStagesCoverEveryLayer_data();
    void torchtitanStagesCoverEveryLayer();
    void torchtitanFlavor();
    void unevenStagesInEveryFormat();
    void gradReduce_data();
    void gradReduce();
    void invalidPlanIsRefusedWithNumbers();
};

void TestExport::golden_data()
{
    QTest::addColumn<QString>("planFile");
    QTest::addColumn<int>("format");
    const QStringList plans = QDir(kDataDir).entryList({"*.plan.json"}, QDir::Files, QDir::Name);
    QVERIFY2(!plans.isEmpty(), qPrintable("no *.plan.json in " + kDataDir));
    for (const QString& plan : plans)
        for (auto f : {ExportFormat::Megatron, ExportFormat::DeepSpeed, ExportFormat::ColossalAI, ExportFormat::Torchtitan})
            QTest::newRow(qPrintable(plan.chopped(10) + " " + toString(f))) << plan << static_cast<int>(f);
}

void TestExport::golden()
{
    QFETCH(QString, planFile);
    QFETCH(int, format);
    const auto f = static_cast<ExportFormat>(format);
    const Case c = loadCase(kDataDir + "/" + planFile);
    const std::string text = exported(c, f);
    const QString goldenPath = kDataDir + "/" + planFile.chopped(10) + "." + extensionOf(f);

    if (qEnvironmentVariable("MESHWORK_UPDATE_GOLDEN") == "1") {
        QFile out(goldenPath);
        QVERIFY(out.open(QIODevice::WriteOnly | QIODevice::Truncate));
        out.write(QByteArray::fromStdString(text));
        qInfo("rewrote %s", qPrintable(goldenPath));
        return;
    }
    QFile in(goldenPath);
    QVERIFY2(in.open(QIODevice::ReadOnly),
             qPrintable(goldenPath + " is missing: run with MESHWORK_UPDATE_GOLDEN=1 and review the diff"));
    const QString expected = QString::fromUtf8(in.readAll());
    const QStringList want = expected.split('\n'), got = QString::fromStdString(text).split('\n');
    for (int i = 0; i < std::max(want.size(), got.size()); ++i) {
        const QString w = i < want.size() ? want[i] : "<end of file>";
        const QString g = i < got.size() ? got[i] : "<end of file>";
        QVERIFY2(w == g, qPrintable(QString("%1 line %2:\n  expected: %3\n  got:      %4\n"
                                            "(MESHWORK_UPDATE_GOLDEN=1 rewrites the golden files)")
                                        .arg(goldenPath).arg(i + 1).arg(w, g)));
    }
}

void TestExport::parsesInItsLanguage_data() { golden_data(); }

void TestExport::parsesInItsLanguage()
{
    QFETCH(QString, planFile);
    QFETCH(int, format);
    const auto f = static_cast<ExportFormat>(format);
    const Case c = loadCase(kDataDir + "/" + planFile);
    const std::string text = exported(c, f);
    QString output;
    int rc = -1;
    switch (f) {
    case ExportFormat::Megatron:
    case ExportFormat::DeepSpeed:
        rc = checkWith("bash", {"-n"}, text, &output);
        break;
    case ExportFormat::ColossalAI:
        rc = checkWith("python3", {"-c", "import ast, sys; ast.parse(sys.stdin.read())"}, text, &output);
        break;
    case ExportFormat::Torchtitan:
        rc = checkWith("python3", {"-c", "import sys, tomllib; tomllib.loads(sys.stdin.read())"}, text, &output);
        break;
    }
    if (rc == -1) QSKIP("the checker (bash or python3 >= 3.11) is not installed");
    QVERIFY2(rc == 0, qPrintable(output));
    if (f == ExportFormat::DeepSpeed) QVERIFY(deepSpeedConfig(text).isObject());
}

void TestExport::formatNames()
{
    for (auto f : {ExportFormat::Megatron, ExportFormat::DeepSpeed, ExportFormat::ColossalAI, ExportFormat::Torchtitan})
        QCOMPARE(parseExportFormat(toString(f)), std::optional<ExportFormat>(f));
    QVERIFY(!parseExportFormat("Megatron-LM"));
    QVERIFY(!parseExportFormat(""));
}

void TestExport::megatronFlags()
{
    Plan p;
    p.dp = 4; p.tp = 8; p.pp = 2; p.vpp = 5; p.sp = true; p.zero = 1;
    p.recompute = Recompute::Full; p.microBatch = 2; p.globalBatch = 160; p.seq = 4096;
    const Case c = makeCase("llama2-70b", 8, 8, p);
    const std::string t = exported(c, ExportFormat::Megatron);
    for (const char* flag : {"--num-layers 80 ", "--hidden-size 8192 ", "--num-attention-heads 64 ",
                             "--group-query-attention ", "--num-query-groups 8 ", "--ffn-hidden-size 28672 ",
                             "--swiglu ", "--normalization RMSNorm ", "--position-embedding-type rope ",
                             "--untie-embeddings-and-output-weights ", "--tensor-model-parallel-size 8 ",
                             "--pipeline-model-parallel-size 2 ",
                             "--num-layers-per-virtual-pipeline-stage 8 ", // 80 / (2 x 5)
                             "--context-parallel-size 1 ", "--sequence-parallel ", "--use-distributed-optimizer ",
                             "--recompute-granularity full ", "--recompute-method uniform ",
                             "--recompute-num-layers 1 ", "--micro-batch-size 2 ", "--global-batch-size 160 ",
                             "--seq-length 4096 ", "--max-position-embeddings 4096 ", "--bf16 ", "--optimizer adam ",
                             "--nnodes 8 ", "--nproc-per-node 8 ", "pretrain_gpt.py "})
        QVERIFY2(contains(t, flag), flag);
    QVERIFY(!contains(t, "--fp16"));
    QVERIFY(!contains(t, "Not expressible"));

    // GPT-2: GELU MLP, LayerNorm, learned positions, tied embeddings; no ZeRO, fp16, SGD.
    Plan g;
    g.dp = 8; g.microBatch = 4; g.seq = 1024; g.precision = Precision::Fp16; g.optimizer = Optimizer::Sgd;
    const Case gc = makeCase("gpt2-124m", 1, 8, g);
    const std::string gt = exported(gc, ExportFormat::Megatron);
    for (const char* flag : {"--normalization LayerNorm ", "--position-embedding-type learned_absolute ",
                             "--ffn-hidden-size 3072 ", "--fp16 ", "--optimizer sgd ", "--global-batch-size 32 "})
        QVERIFY2(contains(gt, flag), flag);
    for (const char* absent : {"--swiglu", "--untie-embeddings", "--group-query-attention", "--use-distributed-optimizer",
                               "--recompute", "--sequence-parallel", "--num-layers-per-virtual"})
        QVERIFY2(!contains(gt, absent), absent);

    // LAMB has no Megatron flag: said, not dropped silently.
    g.optimizer = Optimizer::Lamb;
    QVERIFY(contains(exported({gc.model, gc.cluster, g}, ExportFormat::Megatron), "# Not expressible in Megatron-LM: the LAMB"));
}

void TestExport::deepSpeedBatchArithmetic_data()
{
    QTest::addColumn<int>("dp");
    QTest::addColumn<int>("tp");
    QTest::addColumn<qint64>("micro");
    QTest::addColumn<qint64>("global");
    QTest::addColumn<int>("zero");
    QTest::newRow("dp8 no accumulation") << 8 << 1 << qint64(4) << qint64(32) << 0;
    QTest::newRow("dp8 accumulate 4") << 8 << 1 << qint64(2) << qint64(64) << 2;
    QTest::newRow("dp4 tp2 accumulate 3") << 4 << 2 << qint64(1) << qint64(12) << 3;
}

void TestExport::deepSpeedBatchArithmetic()
{
    QFETCH(int, dp);
    QFETCH(int, tp);
    QFETCH(qint64, micro);
    QFETCH(qint64, global);
    QFETCH(int, zero);
    Plan p;
    p.dp = dp; p.tp = tp; p.microBatch = micro; p.globalBatch = global; p.zero = zero; p.seq = 1024;
    const Case c = makeCase("gpt2-355m", 1, 8, p);
    const std::string t = exported(c, ExportFormat::DeepSpeed);
    const Json cfg = deepSpeedConfig(t);
    QVERIFY(cfg.isObject());
    const auto num = [&](const char* k) { return static_cast<qint64>(cfg.find(k)->asNumber()); };
    // DeepSpeed refuses a config unless train_batch_size = micro x accumulation x dp.
    QCOMPARE(num("train_batch_size"), global);
    QCOMPARE(num("train_micro_batch_size_per_gpu"), micro);
    QCOMPARE(num("train_micro_batch_size_per_gpu") * num("gradient_accumulation_steps") * dp, global);
    QCOMPARE(static_cast<int>(cfg.find("zero_optimization")->find("stage")->asNumber()), zero);
    QVERIFY(cfg.find("bf16")->find("enabled")->asBool());
    QVERIFY(!cfg.find("fp16")->find("enabled")->asBool());
    QVERIFY(contains(t, "deepspeed --num_nodes 1 --num_gpus 8 train.py --deepspeed --deepspeed_config ds_config.json"));
    QCOMPARE(contains(t, "need Megatron-DeepSpeed"), tp > 1);
}

void TestExport::deepSpeedSaysWhatItCannotExpress()
{
    Plan p;
    p.dp = 2; p.tp = 4; p.pp = 2; p.zero = 3; p.offload = Offload::OptimizerParams; p.microBatch = 1;
    p.globalBatch = 8; p.seq = 2048; p.precision = Precision::Fp16; p.optimizer = Optimizer::Lamb;
    const Case c = makeCase("llama2-13b", 2, 8, p);
    const std::string t = exported(c, ExportFormat::DeepSpeed);
    QVERIFY(contains(t, "# Not expressible in DeepSpeed: tp 4 and pp 2 (tensor and pipeline parallelism need Megatron-DeepSpeed"));
    QVERIFY(contains(t, "# Not expressible in DeepSpeed: zero 3 with pipeline parallelism"));
    QVERIFY(contains(t, "--num_nodes 2 --num_gpus 8 --hostfile hostfile"));
    const Json cfg = deepSpeedConfig(t);
    const Json* z = cfg.find("zero_optimization");
    QCOMPARE(z->find("offload_optimizer")->find("device")->asString(), std::string("cpu"));
    QVERIFY(z->find("offload_optimizer")->find("pin_memory")->asBool());
    QCOMPARE(z->find("offload_param")->find("device")->asString(), std::string("cpu"));
    QCOMPARE(cfg.find("optimizer")->find("type")->asString(), std::string("Lamb"));
    QVERIFY(cfg.find("fp16")->find("enabled")->asBool());
}

void TestExport::colossalAiPlugin()
{
    Plan p;
    p.dp = 2; p.tp = 4; p.pp = 2; p.vpp = 2; p.sp = true; p.zero = 1; p.offload = Offload::Optimizer;
    p.microBatch = 1; p.globalBatch = 16; p.seq = 4096; p.optimizer = Optimizer::Lamb;
    const Case c = makeCase("llama2-13b", 2, 8, p);
    const std::string t = exported(c, ExportFormat::ColossalAI);
    for (const char* s : {"plugin = HybridParallelPlugin(", "tp_size=4,", "pp_size=2,", "sp_size=1,",
                          "enable_sequence_parallelism=True,", "sequence_parallelism_mode=\"split_gather\",",
                          "zero_stage=1,", "microbatch_size=1,", "num_microbatches=8,", "pp_style=\"interleaved\",",
                          "num_model_chunks=2,", "precision=\"bf16\",", "cpu_offload=True,",
                          "booster = Booster(plugin=plugin)", "from colossalai.nn.optimizer import Lamb",
                          "LlamaConfig(", "num_hidden_layers=40,", "intermediate_size=13824,",
                          "booster.execute_pipeline("})
        QVERIFY2(contains(t, s), s);

    // Context parallelism is ring attention over sp_size ranks; ZeRO-3 is Gemini's.
    Plan q;
    q.dp = 2; q.cp = 4; q.zero = 2; q.microBatch = 1; q.seq = 8192;
    const Case cc = makeCase("llama3-8b", 1, 8, q);
    const std::string tc = exported(cc, ExportFormat::ColossalAI);
    QVERIFY(contains(tc, "sp_size=4,"));
    QVERIFY(contains(tc, "sequence_parallelism_mode=\"ring_attn\","));
    QVERIFY(contains(tc, "zero_stage=2,"));
    q.dp = 8; q.cp = 1; q.zero = 3; q.offload = Offload::OptimizerParams; q.offloadFraction = 0.25;
    const std::string tg = exported({cc.model, cc.cluster, q}, ExportFormat::ColossalAI);
    QVERIFY(contains(tg, "plugin = GeminiPlugin("));
    QVERIFY(contains(tg, "offload_optim_frac=1.0,"));
    QVERIFY(contains(tg, "offload_param_frac=0.25,"));

    // The Hugging Face class follows the architecture, not the name: Qwen2 has Q/K/V biases.
    Plan r;
    r.dp = 2; r.tp = 4; r.microBatch = 1; r.seq = 4096;
    const Case qc = makeCase("qwen2-7b", 1, 8, r);
    const std::string tq = exported(qc, ExportFormat::ColossalAI);
    QVERIFY(contains(tq, "Qwen2Config("));
    QVERIFY(contains(tq, "num_key_value_heads=4,"));
    QVERIFY(contains(tq, "rope_theta=1000000.0,"));
    QVERIFY(contains(exported(qc, ExportFormat::Megatron), "--add-qkv-bias "));
    QVERIFY(contains(exported(qc, ExportFormat::Torchtitan), "# Not expressible in torchtitan: the model architecture"));
}

void TestExport::torchtitanStagesCoverEveryLayer_data()
{
    QTest::addColumn<int>("pp");
    QTest::addColumn<int>("vpp");
    QTest::newRow("pp2") << 2 << 1;
    QTest::newRow("pp4 vpp2") << 4 << 2;
    QTest::newRow("pp8 vpp5") << 8 << 5;
}

void TestExport::torchtitanStagesCoverEveryLayer()
{
    QFETCH(int, pp);
    QFETCH(int, vpp);
    Plan p;
    p.dp = 64 / pp; p.pp = pp; p.vpp = vpp; p.zero = 1; p.microBatch = 1;
    p.globalBatch = static_cast<int64_t>(p.dp) * pp * 2; p.seq = 4096;
    const Case c = makeCase("llama2-70b", 8, 8, p);
    const QString t = QString::fromStdString(exported(c, ExportFormat::Torchtitan));
    QVERIFY(t.contains(QString("pipeline_parallel_schedule = \"%1\"").arg(vpp > 1 ? "Interleaved1F1B" : "1F1B")));
    const QRegularExpression part(R"(^    \[(.*)\],$)", QRegularExpression::MultilineOption);
    int parts = 0, layersSeen = 0;
    for (auto it = part.globalMatch(t); it.hasNext(); ++parts) {
        const QString body = it.next().captured(1);
        // Each part holds the next run of consecutive layers, L / (pp x vpp) of them.
        const int n = static_cast<int>(body.count("\"layers."));
        QCOMPARE(n, 80 / (pp * vpp));
        QVERIFY(body.contains(QString("\"layers.%1\"").arg(layersSeen)));
        layersSeen += n;
        QCOMPARE(body.contains("tok_embeddings"), parts == 0);
        QCOMPARE(body.contains("\"output\""), parts == pp * vpp - 1);
    }
    QCOMPARE(parts, pp * vpp);
    QCOMPARE(layersSeen, 80);
    QVERIFY(t.contains(QString("data_parallel_shard_degree = %1").arg(64 / pp)));
    QVERIFY(t.contains(QString("local_batch_size = %1").arg(pp * 2))); // global / dp, split by the pipeline
}

// --stage-layers: Megatron's layout string, torchtitan's module lists, Colossal-AI's
// num_layers_per_stage; Megatron-DeepSpeed splits evenly and says so.
void TestExport::unevenStagesInEveryFormat()
{
    Plan p;
    p.dp = 2; p.pp = 2; p.vpp = 2; p.microBatch = 2; p.globalBatch = 16; p.seq = 1024;
    p.stageLayers = {4, 3, 3, 2};
    const Case c = makeCase("gpt2-124m", 1, 4, p);
    const std::string mt = exported(c, ExportFormat::Megatron);
    QVERIFY2(contains(mt, "--pipeline-model-parallel-layout \"Et*4|t*3|t*3|t*2,L\" "), mt.c_str());
    QVERIFY(contains(mt, "--num-virtual-stages-per-pipeline-rank 2 "));
    QVERIFY(!contains(mt, "--num-layers-per-virtual-pipeline-stage"));

    const QString tt = QString::fromStdString(exported(c, ExportFormat::Torchtitan));
    const QRegularExpression part(R"(^    \[(.*)\],$)", QRegularExpression::MultilineOption);
    std::vector<int> counts;
    int next = 0;
    for (auto it = part.globalMatch(tt); it.hasNext();) {
        const QString body = it.next().captured(1);
        counts.push_back(int(body.count("\"layers.")));
        QVERIFY(body.contains(QString("\"layers.%1\"").arg(next)));
        next += counts.back();
    }
    QCOMPARE(counts, p.stageLayers);

    QVERIFY(contains(exported(c, ExportFormat::ColossalAI), "num_layers_per_stage=[4, 3, 3, 2],"));
    QVERIFY(contains(exported(c, ExportFormat::DeepSpeed),
                     "# Not expressible in DeepSpeed: stage-layers 4,3,3,2 (Megatron-DeepSpeed splits the layers evenly"));
}

void TestExport::torchtitanFlavor()
{
    Plan p;
    p.dp = 8; p.zero = 3; p.seq = 2048;
    // llama3-8b has exactly the dimensions of torchtitan's "8B".
    Case c = makeCase("llama3-8b", 1, 8, p);
    std::string t = exported(c, ExportFormat::Torchtitan);
    QVERIFY(contains(t, "flavor = \"8B\""));
    QVERIFY(!contains(t, "register it first"));
    QVERIFY(contains(t, "fsdp_reshard_after_forward = \"always\""));
    // llama2-7b is no torchtitan flavor: a registration with dimensions that reproduce its
    // MLP under torchtitan's rounding (int(8 x 4096 / 3) = 10922 <= 11008 = multiple_of).
    c = makeCase("llama2-7b", 1, 8, p);
    t = exported(c, ExportFormat::Torchtitan);
    QVERIFY(contains(t, "flavor = \"meshwork-llama2-7b\""));
    QVERIFY(contains(t, "dim=4096, n_layers=32, n_heads=32, n_kv_heads=32, vocab_size=32000"));
    QVERIFY(contains(t, "ffn_dim_multiplier=None, multiple_of=11008"));
    // GPT-2 is no LLaMA: said so.
    p.seq = 1024;
    c = makeCase("gpt2-124m", 1, 8, p);
    QVERIFY(contains(exported(c, ExportFormat::Torchtitan),
                     "# Not expressible in torchtitan: the model architecture"));
}

void TestExport::gradReduce_data()
{
    QTest::addColumn<int>("zero");
    QTest::addColumn<QString>("precision");
    QTest::addColumn<QString>("gradReduce");
    for (int z = 0; z <= 3; ++z)
        for (const char* g : {"fp32", "bf16"}) {
            QTest::newRow(qPrintable(QString("zero %1 bf16, grad-reduce %2").arg(z).arg(g))) << z << "bf16" << g;
            QTest::newRow(qPrintable(QString("zero %1 fp32, grad-reduce %2").arg(z).arg(g))) << z << "fp32" << g;
        }
}

// The type of the data-parallel gradient reduction in each framework's own terms, or a note.
void TestExport::gradReduce()
{
    QFETCH(int, zero);
    QFETCH(QString, precision);
    QFETCH(QString, gradReduce);
    Plan p;
    p.dp = 8; p.zero = zero; p.microBatch = 1; p.globalBatch = 16; p.seq = 2048;
    p.precision = *parsePrecision(precision.toStdString());
    p.gradReduce = *parsePrecision(gradReduce.toStdString());
    const bool bf16 = p.gradReduce == Precision::Bf16;
    const Case c = makeCase("llama3-8b", 1, 8, p);

    // Every header names a non-default reduction, and the command line that reproduces it.
    for (auto f : {ExportFormat::Megatron, ExportFormat::DeepSpeed, ExportFormat::ColossalAI, ExportFormat::Torchtitan}) {
        const std::string t = exported(c, f);
        QCOMPARE(contains(t, ", grad-reduce bf16, "), bf16);
        QCOMPARE(contains(t, " --grad-reduce bf16"), bf16);
    }

    // Megatron: --grad-reduce-in-bf16, read only with --bf16, also makes the gradient buffer
    // bf16, so the two micro-batches of this step accumulate in bf16: said.
    const std::string mg = exported(c, ExportFormat::Megatron);
    QCOMPARE(contains(mg, "    --grad-reduce-in-bf16 \\\n"), bf16 && p.precision == Precision::Bf16);
    QCOMPARE(contains(mg, "# Not expressible in Megatron-LM: fp32 gradient accumulation with a bf16 reduction"),
             bf16 && p.precision == Precision::Bf16);
    QCOMPARE(contains(mg, "# Not expressible in Megatron-LM: grad-reduce bf16 with fp32"),
             bf16 && p.precision == Precision::Fp32);

    // DeepSpeed: always written, since unset it follows the training precision.
    const Json cfg = deepSpeedConfig(exported(c, ExportFormat::DeepSpeed));
    QVERIFY(cfg.find("communication_data_type"));
    QCOMPARE(cfg.find("communication_data_type")->asString(), std::string(bf16 ? "bf16" : "fp32"));

    // Colossal-AI: ZeRO 1/2 take communication_dtype; DDP (zero 0) and Gemini (zero 3) reduce
    // in the parameters' type, which is said when the plan asks for another.
    const std::string ca = exported(c, ExportFormat::ColossalAI);
    if (zero == 1 || zero == 2) {
        QVERIFY(contains(ca, bf16 ? "communication_dtype=torch.bfloat16," : "communication_dtype=torch.float32,"));
        QVERIFY(!contains(ca, "reduces gradients in the parameters' type"));
    } else {
        QVERIFY(!contains(ca, "communication_dtype="));
        const std::string note = "# Not expressible in Colossal-AI: grad-reduce " + gradReduce.toStdString() + " with "
            + precision.toStdString() + " and zero " + std::to_string(zero) + " (" + (zero == 3 ? "GeminiPlugin" : "DDP")
            + " reduces gradients in the parameters' type";
        QCOMPARE(contains(ca, note), gradReduce != precision);
    }

    // torchtitan: FSDP's reduce dtype; torchtitan 0.2 accepts only float32 there, and zero 0
    // is DDP, which the setting does not reach.
    const std::string tt = exported(c, ExportFormat::Torchtitan);
    QVERIFY(contains(tt, bf16 ? "\nmixed_precision_reduce = \"bfloat16\"\n" : "\nmixed_precision_reduce = \"float32\"\n"));
    QCOMPARE(contains(tt, "# Not expressible in torchtitan: grad-reduce bf16 in a 0.2 job file"), bf16);
    QCOMPARE(contains(tt, "# Not expressible in torchtitan: grad-reduce bf16 with zero 0"), bf16 && zero == 0);

    // fp16 is refused before any framework sees it.
    p.gradReduce = Precision::Fp16;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("^export refused: .*grad-reduce must be fp32 or bf16"));
    QVERIFY(contains(exported({c.model, c.cluster, p}, ExportFormat::DeepSpeed), "EXPORT REFUSED: "));
}

void TestExport::invalidPlanIsRefusedWithNumbers()
{
    Plan p;
    p.dp = 2; p.tp = 3; // 6 GPUs on an 8-GPU node
    const Case c = makeCase("gpt2-124m", 1, 8, p);
    try {
        exportPlan(c.model, c.cluster, c.plan, ExportFormat::Megatron);
        QFAIL("an invalid plan was exported");
    } catch (const SpecError& e) {
        const std::string msg = e.what();
        QVERIFY2(contains(msg, "(2 x 3 x 1 x 1 = 6)"), e.what());
        QVERIFY2(contains(msg, "(1 nodes x 8 = 8)"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestExport)
#include "test_export.moc"
