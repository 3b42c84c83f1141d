// meshwork-cli end to end: the built binary, its exit codes, stdout and stderr.
// Exit codes (meshwork-cli --help): 0 ok, 1 invalid plan, 2 bad input, 3 internal error.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

namespace {

const QString kCli = QStringLiteral(MESHWORK_BINARY_DIR "/bin/meshwork-cli");

struct Result {
    int exitCode = -1;
    bool crashed = false;
    QString out, err;
};

Result runCli(const QStringList& args, const QString& workDir = {})
{
    QProcess p;
    if (!workDir.isEmpty()) p.setWorkingDirectory(workDir);
    p.start(kCli, args);
    Result r;
    if (!p.waitForStarted(10000)) {
        r.err = "could not start " + kCli + ": " + p.errorString();
        return r;
    }
    p.waitForFinished(60000);
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.exitCode = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QJsonObject parseObject(const QString& text, QString* error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError) *error = pe.errorString() + " at " + QString::number(pe.offset);
    return doc.object();
}

QString describe(const Result& r)
{
    return QString("exit %1%2\n--- stdout ---\n%3\n--- stderr ---\n%4")
        .arg(r.exitCode)
        .arg(r.crashed ? " (crashed)" : "")
        .arg(r.out.left(3000), r.err.left(3000));
}

// A Hugging Face config.json with llama2-7b's published dimensions.
const char* kLlama2_7bConfig = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
  "num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 32000,
  "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
  "tie_word_embeddings": false, "torch_dtype": "float16"
})";

const QStringList kLlama70bPlan = {"--model", "llama2-70b", "--nodes", "8", "--gpus-per-node", "8", "--tp", "8",
                                   "--pp", "2", "--sp", "--zero", "1", "--recompute", "selective",
                                   "--global-batch", "512", "--seq", "4096"};

} // namespace

class TestCli : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void planJson_data();
    void planJson();
    void planTable();
    void configJsonAsModel();
    void badInput_data();
    void badInput();
    void invalidPlan_data();
    void invalidPlan();
    void exportFormats_data();
    void exportFormats();
    void exportToFile();
    void exportRefusesInvalidPlan();
    void searchJson();
    void searchTable();
    void catalogs();
    void helpAndVersion_data();
    void helpAndVersion();
    void neverCrashes_data();
    void neverCrashes();

private:
    QTemporaryDir m_dir;
};

void TestCli::initTestCase()
{
    QVERIFY2(QFileInfo(kCli).isExecutable(), qPrintable(kCli + " is not built (ninja meshwork-cli)"));
}

void TestCli::planJson_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("stages");
    QTest::addColumn<double>("tokensPerStep");
    QTest::newRow("gpt2-124m defaults") << QStringList{} << 1 << 8.0 * 1024;
    QTest::newRow("llama2-70b 8x8 tp8 pp2") << kLlama70bPlan << 2 << 512.0 * 4096;
}

void TestCli::planJson()
{
    QFETCH(QStringList, args);
    QFETCH(int, stages);
    QFETCH(double, tokensPerStep);
    const Result r = runCli(QStringList{"plan", "--json"} + args);
    QVERIFY2(r.exitCode == 0 && !r.crashed, qPrintable(describe(r)));
    QString error;
    const QJsonObject j = parseObject(r.out, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error + "\n" + r.out));
    for (const char* key : {"valid", "errors", "warnings", "memory", "time", "throughput"})
        QVERIFY2(j.contains(key), key);
    QVERIFY(j["valid"].toBool());
    QVERIFY(j["errors"].toArray().isEmpty());

    const QJsonObject mem = j["memory"].toObject();
    QCOMPARE(mem["stages"].toArray().size(), stages);
    const double capacity = mem["capacity_gib"].toDouble(), total = mem["total_gib"].toDouble();
    QVERIFY2(capacity > 70 && capacity < 81, qPrintable(QString::number(capacity))); // an 80 GB H100
    QVERIFY(total > 0 && total <= capacity);
    // total_gib is the fullest GPU: no stage holds more, and every stage sums its own terms.
    for (const auto& sv : mem["stages"].toArray()) {
        const QJsonObject s = sv.toObject();
        QVERIFY(s["total_gib"].toDouble() <= total + 1e-9);
        double sum = 0;
        for (const char* term : {"weights_gib", "gradients_gib", "optimizer_gib", "activations_gib", "logits_gib",
                                 "buffers_gib", "context_gib", "reserve_gib"}) {
            QVERIFY2(s[term].toDouble() >= 0, term);
            sum += s[term].toDouble();
        }
        QVERIFY2(std::fabs(sum - s["total_gib"].toDouble()) < 1e-6 * std::max(1.0, sum),
                 qPrintable(QString("terms %1 vs total %2").arg(sum).arg(s["total_gib"].toDouble())));
    }

    const QJsonObject time = j["time"].toObject(), tp = j["throughput"].toObject();
    const double step = time["step_s"].toDouble();
    QVERIFY(step > 0);
    QVERIFY(time["compute_s"].toDouble() > 0 && time["compute_s"].toDouble() < step);
    // Throughput follows from the step time: tokens per step / step seconds, for the cluster.
    const double tokensPerS = tp["tokens_per_s"].toDouble();
    QVERIFY2(std::fabs(tokensPerS - tokensPerStep / step) < 1e-6 * tokensPerS,
             qPrintable(QString("%1 vs %2").arg(tokensPerS).arg(tokensPerStep / step)));
    const double tflops = tp["tflops_per_gpu"].toDouble(), mfu = tp["mfu"].toDouble();
    QVERIFY(tflops > 0 && tflops < 989); // under the H100's dense bf16 peak
    QVERIFY(mfu > 0 && mfu < 1);
    QVERIFY(std::fabs(mfu - tflops / 989.0) < 0.01);
}

void TestCli::planTable()
{
    const Result r = runCli(QStringList{"plan"} + kLlama70bPlan + QStringList{"--tokens", "2T", "--price", "2.5"});
    QVERIFY2(r.exitCode == 0, qPrintable(describe(r)));
    for (const char* s : {"llama2-70b", "64 GPUs", "dp 4 x tp 8 x pp 2 x cp 1", "Memory per GPU in GiB", "weights",
                          "activations", "fullest GPU", "Step time", "pipeline bubble", "tokens/s", "TFLOPS per GPU",
                          "MFU", "to train 2.00T tokens", "GPU-hours", "cost", "The plan is valid."})
        QVERIFY2(r.out.contains(s), qPrintable(QString(s) + " missing in:\n" + r.out));
    // The default gradient reduction goes unsaid; bf16 is named in the plan line and costs less
    // data-parallel time.
    QVERIFY2(!r.out.contains("grad-reduce"), qPrintable(r.out));
    const Result bf16 = runCli(QStringList{"plan"} + kLlama70bPlan + QStringList{"--grad-reduce", "bf16", "--json"});
    const Result fp32 = runCli(QStringList{"plan"} + kLlama70bPlan + QStringList{"--json"});
    QVERIFY2(bf16.exitCode == 0 && fp32.exitCode == 0, qPrintable(describe(bf16)));
    QString error;
    const double dpBf16 = parseObject(bf16.out, &error)["time"].toObject()["dp_comm_total_s"].toDouble();
    const double dpFp32 = parseObject(fp32.out, &error)["time"].toObject()["dp_comm_total_s"].toDouble();
    QVERIFY2(dpBf16 > 0 && dpBf16 < dpFp32, qPrintable(QString("%1 s against %2 s").arg(dpBf16).arg(dpFp32)));
    const Result table = runCli(QStringList{"plan"} + kLlama70bPlan + QStringList{"--grad-reduce", "bf16"});
    QVERIFY2(table.out.contains(", bf16, grad-reduce bf16, adamw"), qPrintable(table.out));
}

void TestCli::configJsonAsModel()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath("config.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kLlama2_7bConfig);
    f.close();
    const QStringList plan = {"--seq", "4096", "--zero", "3", "--global-batch", "64", "--json"};
    const Result fromFile = runCli(QStringList{"plan", "--model", path} + plan);
    QVERIFY2(fromFile.exitCode == 0, qPrintable(describe(fromFile)));
    // The same dimensions as the catalog's llama2-7b: the same estimate, to the last digit.
    const Result fromCatalog = runCli(QStringList{"plan", "--model", "llama2-7b"} + plan);
    QVERIFY2(fromCatalog.exitCode == 0, qPrintable(describe(fromCatalog)));
    QCOMPARE(fromFile.out, fromCatalog.out);
    // A relative path works from the working directory.
    const Result relative = runCli(QStringList{"plan", "--model", "config.json"} + plan, dir.path());
    QCOMPARE(relative.out, fromCatalog.out);
}

void TestCli::badInput_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");

    QVERIFY(m_dir.isValid()); // outlives the rows, which name files in it
    const QString malformed = m_dir.filePath("broken.json");
    QFile f(malformed);
    if (f.open(QIODevice::WriteOnly)) f.write("{\"model_type\": \"llama\", \"hidden_size\": 4096,");
    f.close();
    const QString unsupported = m_dir.filePath("t5.json");
    QFile g(unsupported);
    if (g.open(QIODevice::WriteOnly)) g.write("{\"model_type\": \"t5\", \"d_model\": 512}");
    g.close();

    QTest::newRow("no command") << QStringList{} << "usage: meshwork-cli <command>";
    QTest::newRow("unknown command") << QStringList{"plna"} << "unknown command \"plna\" (did you mean plan?)";
    QTest::newRow("option before command") << QStringList{"--tp", "2"} << "expected a command before the option --tp";
    QTest::newRow("unknown flag") << QStringList{"plan", "--tpp", "2"} << "unknown option --tpp (did you mean --tp?)";
    QTest::newRow("single dash") << QStringList{"plan", "-tp", "2"} << "options start with two dashes";
    QTest::newRow("positional model") << QStringList{"plan", "llama2-70b"} << "did you mean --model llama2-70b?";
    QTest::newRow("missing value") << QStringList{"plan", "--tp"} << "--tp needs a value";
    QTest::newRow("not a number") << QStringList{"plan", "--tp", "two"} << "--tp: expected a whole number, got \"two\"";
    QTest::newRow("zero degree") << QStringList{"plan", "--pp", "0"} << "--pp must be at least 1 (got 0)";
    QTest::newRow("zero stage 5") << QStringList{"plan", "--zero", "5"} << "--zero must be 0, 1, 2 or 3 (got 5)";
    QTest::newRow("bad precision") << QStringList{"plan", "--precision", "fp8"} << "--precision: expected bf16, fp16 or fp32";
    QTest::newRow("bad recompute") << QStringList{"plan", "--recompute", "some"} << "--recompute: expected none, selective or full";
    QTest::newRow("bad order") << QStringList{"plan", "--order", "tp-dp"} << "--order:";
    QTest::newRow("bad fraction") << QStringList{"plan", "--offload-fraction", "1.5"} << "--offload-fraction must be between 0 and 1";
    QTest::newRow("bad grad-reduce") << QStringList{"plan", "--grad-reduce", "fp8"} << "--grad-reduce: expected fp32 or bf16";
    QTest::newRow("fp16 grad-reduce") << QStringList{"plan", "--grad-reduce", "fp16"} << "--grad-reduce must be fp32 or bf16 (got fp16";
    QTest::newRow("bad target") << QStringList{"plan", "--target", "nemo"} << "--target: expected meshwork or megatron";
    QTest::newRow("bad tokens") << QStringList{"plan", "--tokens", "lots"} << "--tokens: expected a positive token count";
    QTest::newRow("unknown model") << QStringList{"plan", "--model", "llama9"} << "unknown model \"llama9\"; choose one of: ";
    QTest::newRow("unknown gpu") << QStringList{"plan", "--gpu", "h1000"} << "--gpu: unknown GPU \"h1000\"; choose one of: ";
    QTest::newRow("unreadable config") << QStringList{"plan", "--model", "/nonexistent/config.json"}
                                       << "cannot open model file /nonexistent/config.json";
    QTest::newRow("malformed config") << QStringList{"plan", "--model", malformed} << "not valid JSON";
    QTest::newRow("unsupported config") << QStringList{"plan", "--model", unsupported} << "model_type";
    QTest::newRow("bad model dims") << QStringList{"plan", "--model", "llama2-7b", "--kv-heads", "5"}
                                    << "heads (32) must be divisible by kv-heads (5)";
    QTest::newRow("too many gpus") << QStringList{"plan", "--nodes", "1000000", "--gpus-per-node", "1000"} << "at most 1048576";
    QTest::newRow("search takes no tp") << QStringList{"search", "--tp", "2"} << "search chooses the layout itself";
    QTest::newRow("search top 0") << QStringList{"search", "--top", "0"} << "--top: expected a whole number of at least 1";
    QTest::newRow("export without --to") << QStringList{"export"} << "--to is required";
    QTest::newRow("export unknown format") << QStringList{"export", "--to", "megatronlm"} << "(did you mean megatron?)";
    QTest::newRow("export out in missing dir") << QStringList{"export", "--to", "megatron", "--out", "/nonexistent/x.sh"}
                                               << "--out /nonexistent/x.sh: cannot create a file in /nonexistent";
    QTest::newRow("models unknown flag") << QStringList{"models", "--foo"} << "unknown option --foo";
    QTest::newRow("help unknown command") << QStringList{"help", "plann"} << "unknown command \"plann\"";
}

void TestCli::badInput()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Result r = runCli(args);
    QVERIFY2(!r.crashed && r.exitCode == 2, qPrintable(describe(r)));
    QVERIFY2(r.err.contains(message), qPrintable("expected \"" + message + "\" in: " + r.err));
    QVERIFY2(r.out.isEmpty(), qPrintable(r.out));
    // One message, not a page (except the program's usage when no command is given).
    if (!args.isEmpty()) QVERIFY2(r.err.trimmed().count('\n') == 0, qPrintable(r.err));
}

void TestCli::invalidPlan_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("errors");
    QTest::newRow("world size") << QStringList{"--dp", "2", "--tp", "3"}
                                << QStringList{"dp x tp x pp x cp (2 x 3 x 1 x 1 = 6) must equal the cluster's GPUs (1 nodes x 8 = 8)"};
    QTest::newRow("kv heads vs tp") << QStringList{"--model", "llama2-70b", "--nodes", "2", "--tp", "16", "--seq", "4096"}
                                    << QStringList{"kv-heads (8) must be divisible by tp (16)"};
    QTest::newRow("layers vs pp x vpp") << QStringList{"--model", "gpt2-124m", "--pp", "8", "--vpp", "2", "--global-batch", "16"}
                                        << QStringList{"layers (12) must be divisible by pp x vpp (8 x 2 = 16)"};
    QTest::newRow("seq over the model") << QStringList{"--seq", "2048"}
                                        << QStringList{"seq (2048) exceeds the model's maximum sequence (1024)"};
    QTest::newRow("batch divisibility") << QStringList{"--micro-batch", "2", "--global-batch", "20"}
                                        << QStringList{"global-batch (20) must be a multiple of micro-batch x dp (2 x 8 = 16)"};
    QTest::newRow("memory") << QStringList{"--model", "llama2-70b", "--seq", "4096"}
                            << QStringList{"memory: stage 0 needs", "over the GPU's"};
    QTest::newRow("dp does not divide") << QStringList{"--tp", "3"}
                                        << QStringList{"not divisible by tp x pp x cp = 3"};
}

void TestCli::invalidPlan()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, errors);
    const Result table = runCli(QStringList{"plan"} + args);
    QVERIFY2(!table.crashed && table.exitCode == 1, qPrintable(describe(table)));
    QVERIFY(table.out.contains("Errors (the plan is invalid):"));
    for (const QString& e : errors) QVERIFY2(table.out.contains(e), qPrintable(e + " missing in:\n" + table.out));
    QVERIFY(table.err.contains("the plan is invalid"));

    // --json: the same errors in "errors", valid false, still exit code 1.
    const Result json = runCli(QStringList{"plan", "--json"} + args);
    QCOMPARE(json.exitCode, 1);
    QString error;
    const QJsonObject j = parseObject(json.out, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(!j["valid"].toBool());
    QString all;
    for (const auto& e : j["errors"].toArray()) all += e.toString() + "\n";
    for (const QString& e : errors) QVERIFY2(all.contains(e), qPrintable(e + " missing in:\n" + all));
    // The table lists each error once, as the JSON does.
    for (const QString& e : errors) QCOMPARE(table.out.count(e), all.count(e));
}

void TestCli::exportFormats_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("megatron") << "megatron"
                              << QStringList{"torchrun", "--nnodes 8", "--nproc-per-node 8", "pretrain_gpt.py",
                                             "--num-layers 80", "--hidden-size 8192", "--num-attention-heads 64",
                                             "--num-query-groups 8", "--ffn-hidden-size 28672", "--swiglu",
                                             "--normalization RMSNorm", "--position-embedding-type rope",
                                             "--tensor-model-parallel-size 8", "--pipeline-model-parallel-size 2",
                                             "--sequence-parallel", "--use-distributed-optimizer",
                                             "--recompute-granularity selective", "--micro-batch-size 1",
                                             "--global-batch-size 512", "--seq-length 4096", "--bf16",
                                             "--optimizer adam"};
    QTest::newRow("deepspeed") << "deepspeed"
                               << QStringList{"\"train_batch_size\": 512", "\"train_micro_batch_size_per_gpu\": 1",
                                              "\"gradient_accumulation_steps\": 128", "\"stage\": 1",
                                              "deepspeed --num_nodes 8 --num_gpus 8",
                                              "--deepspeed --deepspeed_config ds_config.json",
                                              "# Not expressible in DeepSpeed: tp 8 and pp 2"};
    QTest::newRow("colossalai") << "colossalai"
                                << QStringList{"HybridParallelPlugin(", "tp_size=8,", "pp_size=2,",
                                               "enable_sequence_parallelism=True,", "zero_stage=1,",
                                               "num_microbatches=128,", "precision=\"bf16\",",
                                               "Booster(plugin=plugin)", "num_hidden_layers=80,"};
    QTest::newRow("torchtitan") << "torchtitan"
                                << QStringList{"[parallelism]", "tensor_parallel_degree = 8", "pipeline_parallel_degree = 2",
                                               "data_parallel_shard_degree = 4", "pipeline_parallel_schedule = \"1F1B\"",
                                               "seq_len = 4096", "global_batch_size = 512",
                                               "[activation_checkpoint]", "mode = \"selective\""};
}

void TestCli::exportFormats()
{
    QFETCH(QString, format);
    QFETCH(QStringList, expected);
    // --force: this checks the text, whatever the memory model thinks of the plan.
    const Result r = runCli(QStringList{"export", "--to", format, "--force"} + kLlama70bPlan);
    QVERIFY2(r.exitCode == 0, qPrintable(describe(r)));
    for (const QString& s : expected) QVERIFY2(r.out.contains(s), qPrintable(s + " missing in:\n" + r.out));
}

void TestCli::exportToFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath("train.sh");
    QFile old(path);
    QVERIFY(old.open(QIODevice::WriteOnly));
    old.write("previous content\n");
    old.close();

    const Result toStdout = runCli(QStringList{"export", "--to", "megatron"} + kLlama70bPlan);
    const Result toFile = runCli(QStringList{"export", "--to", "megatron", "--out", path} + kLlama70bPlan);
    QVERIFY2(toFile.exitCode == 0, qPrintable(describe(toFile)));
    QVERIFY(toFile.out.contains("wrote " + path));
    QFile written(path);
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(written.readAll()), toStdout.out); // replaced whole, same text
    QVERIFY(QFileInfo(path).isExecutable());                       // a launch script
    // Atomic: written beside the target and renamed, so no temporary is left behind.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"train.sh"});
}

void TestCli::exportRefusesInvalidPlan()
{
    // Structural: refused with the numbers, even with --force.
    Result r = runCli({"export", "--to", "megatron", "--dp", "2", "--tp", "3", "--force"});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("(2 x 3 x 1 x 1 = 6)"), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
    // Memory only: refused, and --force exports it with a warning.
    const QStringList tooBig = {"export", "--to", "deepspeed", "--model", "llama2-70b", "--seq", "4096"};
    r = runCli(tooBig);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("memory: stage 0 needs") && r.err.contains("--force"), qPrintable(r.err));
    r = runCli(tooBig + QStringList{"--force"});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("ds_config.json"));
    QVERIFY(r.err.contains("warning"));
}

void TestCli::searchJson()
{
    const Result r = runCli({"search", "--model", "gpt2-124m", "--seq", "1024", "--global-batch", "32", "--top", "40", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(describe(r)));
    QString error;
    const QJsonObject j = parseObject(r.out, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QJsonArray results = j["results"].toArray();
    QVERIFY(!results.isEmpty());
    QVERIFY(results.size() <= 40);
    QVERIFY(j["considered"].toDouble() >= results.size());
    int pareto = 0;
    double previous = 1e300;
    for (int i = 0; i < results.size(); ++i) {
        const QJsonObject item = results[i].toObject();
        QCOMPARE(item["rank"].toInt(), i + 1);
        QVERIFY(item["pareto"].isBool());
        pareto += item["pareto"].toBool();
        const double tps = item["estimate"].toObject()["throughput"].toObject()["tokens_per_s"].toDouble();
        QVERIFY2(tps <= previous, "results are not sorted by tokens/s");
        previous = tps;
        QVERIFY(item["estimate"].toObject()["valid"].toBool());
        const QJsonObject plan = item["plan"].toObject();
        QCOMPARE(plan["dp"].toInt() * plan["tp"].toInt() * plan["pp"].toInt() * plan["cp"].toInt(), 8);
        QCOMPARE(plan["global_batch"].toInt(), 32);
        QCOMPARE(plan["seq"].toInt(), 1024);
    }
    // The fastest valid plan always sits on the front.
    QVERIFY(results[0].toObject()["pareto"].toBool());
    QVERIFY(pareto >= 1);
}

void TestCli::searchTable()
{
    const Result r = runCli({"search", "--model", "gpt2-124m", "--top", "5"});
    QVERIFY2(r.exitCode == 0, qPrintable(describe(r)));
    QVERIFY(!r.out.contains("grad-reduce"));
    QVERIFY(r.out.contains("pareto"));
    QVERIFY(r.out.contains("Pareto front"));
    // Header plus five ranked rows.
    const QRegularExpression row(R"(^\s*([1-9]\d*)\s)", QRegularExpression::MultilineOption);
    int rows = 0;
    for (auto it = row.globalMatch(r.out); it.hasNext(); it.next()) ++rows;
    QCOMPARE(rows, 5);

    // The command it prints for the best plan estimates exactly what the search ranked first.
    const QRegularExpression line(R"(The best plan in detail: meshwork-cli (plan .*)$)", QRegularExpression::MultilineOption);
    const auto m = line.match(r.out);
    QVERIFY2(m.hasMatch(), qPrintable(r.out));
    const QStringList planArgs = m.captured(1).split(' ', Qt::SkipEmptyParts);
    QVERIFY(planArgs.contains("--model") && planArgs.contains("gpt2-124m"));
    const Result plan = runCli(planArgs + QStringList{"--json"});
    QVERIFY2(plan.exitCode == 0, qPrintable(describe(plan)));
    const Result search = runCli({"search", "--model", "gpt2-124m", "--top", "1", "--json"});
    QString error;
    const QJsonObject best = parseObject(search.out, &error)["results"].toArray().first().toObject();
    QCOMPARE(parseObject(plan.out, &error)["throughput"].toObject()["tokens_per_s"].toDouble(),
             best["estimate"].toObject()["throughput"].toObject()["tokens_per_s"].toDouble());

    // grad-reduce is held fixed, like the precision: named, and kept in the best plan's command.
    const Result bf16 = runCli({"search", "--model", "gpt2-124m", "--top", "1", "--grad-reduce", "bf16"});
    QVERIFY2(bf16.exitCode == 0, qPrintable(describe(bf16)));
    QVERIFY2(bf16.out.contains(", bf16, grad-reduce bf16, adamw\n"), qPrintable(bf16.out));
    QVERIFY2(QRegularExpression("The best plan in detail: meshwork-cli plan .* --grad-reduce bf16 ").match(bf16.out).hasMatch(),
             qPrintable(bf16.out));
}

void TestCli::catalogs()
{
    QFile models(MESHWORK_SOURCE_DIR "/resources/models.json"), gpus(MESHWORK_SOURCE_DIR "/resources/gpus.json");
    QVERIFY(models.open(QIODevice::ReadOnly) && gpus.open(QIODevice::ReadOnly));
    const Result m = runCli({"models"});
    QCOMPARE(m.exitCode, 0);
    for (const char* col : {"name", "family", "params", "layers", "hidden", "heads", "kv", "ffn", "vocab", "seq"})
        QVERIFY2(m.out.section('\n', 0, 0).contains(col), col);
    const QJsonArray modelList = QJsonDocument::fromJson(models.readAll()).object()["models"].toArray();
    QVERIFY(!modelList.isEmpty());
    for (const auto& v : modelList) {
        const QString name = v.toObject()["name"].toString();
        QVERIFY2(QRegularExpression("(^|\\n)" + QRegularExpression::escape(name) + "\\s").match(m.out).hasMatch(),
                 qPrintable(name));
    }
    QVERIFY(m.out.contains("68.98B")); // llama2-70b's parameter count

    const Result g = runCli({"gpus"});
    QCOMPARE(g.exitCode, 0);
    for (const char* col : {"id", "name", "memory", "bf16 TFLOPS", "HBM GB/s", "link"})
        QVERIFY2(g.out.section('\n', 0, 0).contains(col), col);
    QJsonDocument gpuDoc = QJsonDocument::fromJson(gpus.readAll());
    const QJsonArray gpuList = gpuDoc.isArray() ? gpuDoc.array() : gpuDoc.object()["gpus"].toArray();
    QVERIFY(!gpuList.isEmpty());
    for (const auto& v : gpuList) {
        const QJsonObject o = v.toObject();
        QVERIFY2(g.out.contains(o["id"].toString() + " "), qPrintable(o["id"].toString()));
        QVERIFY2(g.out.contains(o["name"].toString()), qPrintable(o["name"].toString()));
    }

    const Result mj = runCli({"models", "--json"});
    QCOMPARE(mj.exitCode, 0);
    QCOMPARE(QJsonDocument::fromJson(mj.out.toUtf8()).array().size(), modelList.size());
}

void TestCli::helpAndVersion_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("--help") << QStringList{"--help"}
                            << QStringList{"usage: meshwork-cli <command>", "plan", "search", "export", "models", "gpus",
                                           "Exit codes:", "1  the plan is invalid", "2  bad input"};
    QTest::newRow("plan --help") << QStringList{"plan", "--help"}
                                 << QStringList{"usage: meshwork-cli plan", "--model NAME|FILE", "--tp N", "--gpu ID",
                                                "--grad-reduce fp32|bf16", "--tokens N", "--json", "1 it is invalid"};
    QTest::newRow("plan -h") << QStringList{"plan", "-h"} << QStringList{"usage: meshwork-cli plan"};
    QTest::newRow("help beside a mistake") << QStringList{"plan", "--tpp", "3", "--help"}
                                           << QStringList{"usage: meshwork-cli plan"};
    QTest::newRow("help search") << QStringList{"help", "search"}
                                 << QStringList{"usage: meshwork-cli search", "--top N", "Pareto", "--global-batch N",
                                                "--grad-reduce fp32|bf16"};
    QTest::newRow("export --help") << QStringList{"export", "--help"}
                                   << QStringList{"usage: meshwork-cli export", "--to megatron|deepspeed|colossalai|torchtitan",
                                                  "--out FILE", "--force"};
    QTest::newRow("models --help") << QStringList{"models", "--help"} << QStringList{"usage: meshwork-cli models"};
    QTest::newRow("gpus --help") << QStringList{"gpus", "--help"} << QStringList{"usage: meshwork-cli gpus"};
    QTest::newRow("--version") << QStringList{"--version"} << QStringList{"meshwork-cli "};
}

void TestCli::helpAndVersion()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, expected);
    const Result r = runCli(args);
    QVERIFY2(r.exitCode == 0, qPrintable(describe(r)));
    for (const QString& s : expected) QVERIFY2(r.out.contains(s), qPrintable(s + " missing in:\n" + r.out));
    if (args.first() == "--version")
        QVERIFY2(QRegularExpression(R"(^meshwork-cli \d+\.\d+\.\d+\n$)").match(r.out).hasMatch(), qPrintable(r.out));
}

void TestCli::neverCrashes_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::newRow("empty model") << QStringList{"plan", "--model="};
    QTest::newRow("empty tp") << QStringList{"plan", "--tp="};
    QTest::newRow("huge seq") << QStringList{"plan", "--seq", "99999999999999999999"};
    QTest::newRow("huge hidden") << QStringList{"plan", "--hidden", "999999999996"};
    QTest::newRow("huge layers") << QStringList{"plan", "--layers", "16000000"};
    QTest::newRow("huge batch") << QStringList{"plan", "--global-batch", "9223372036854775807"};
    QTest::newRow("huge degrees") << QStringList{"plan", "--dp", "1000000", "--tp", "1000000"};
    QTest::newRow("nan fraction") << QStringList{"plan", "--offload-fraction", "nan"};
    QTest::newRow("vocab 1") << QStringList{"plan", "--vocab", "1", "--json"};
    QTest::newRow("zero bandwidth") << QStringList{"plan", "--intra-gbps", "0", "--inter-gbps", "0"};
    QTest::newRow("tiny model search") << QStringList{"search", "--model", "gpt-nano", "--gpus-per-node", "1"};
    QTest::newRow("export nano") << QStringList{"export", "--to", "colossalai", "--model", "gpt-nano", "--gpus-per-node", "1"};
}

void TestCli::neverCrashes()
{
    QFETCH(QStringList, args);
    const Result r = runCli(args);
    QVERIFY2(!r.crashed && r.exitCode >= 0 && r.exitCode <= 2, qPrintable(describe(r)));
    if (r.exitCode == 2) QVERIFY2(!r.err.trimmed().isEmpty(), "exit 2 without a message");
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
