#include "ui/runs/RunOptions.h"

#include "core/spec/Catalog.h"
#include "core/spec/Options.h"

#include <QCoreApplication>
#include <QFileInfo>

namespace meshwork::ui {

QString trainerPath()
{
    const QString env = qEnvironmentVariable("MESHWORK_TRAINER");
    if (!env.isEmpty()) return env;
    return QCoreApplication::applicationDirPath() + QStringLiteral("/meshwork-train");
}

int ranksFor(const Plan& plan) { return std::max(1, plan.worldSize()); }

QStringList trainerArguments(const ModelSpec& model, const Plan& plan, const RunOptions& o,
                             const QString& checkpointDir)
{
    QStringList args;
    const auto known = findModel(model.name);
    const std::string base = known ? model.name : std::string("gpt-nano");
    args << QStringLiteral("--model") << QString::fromStdString(base);
    // A model edited in the planner keeps its catalog name: say what differs.
    const ModelSpec ref = known ? *known : ModelSpec{};
    auto dim = [&](const char* flag, int64_t mine, int64_t theirs) {
        if (mine > 0 && (!known || mine != theirs)) args << QString::fromLatin1(flag) << QString::number(mine);
    };
    dim("--layers", model.layers, ref.layers);
    dim("--hidden", model.hidden, ref.hidden);
    dim("--heads", model.heads, ref.heads);
    dim("--kv-heads", model.kvHeads, ref.kvHeads);
    dim("--ffn", model.ffn, ref.ffn);
    dim("--vocab", model.vocab, ref.vocab);

    Plan p = plan;
    if (o.device == RunOptions::Device::Cpu) p.precision = Precision::Fp32; // no fast bf16 matmuls on CPU
    for (const std::string& a : planToArgs(p)) args << QString::fromStdString(a);
    // planToArgs leaves out defaults; the trainer's own default precision depends on the device.
    if (!args.contains(QStringLiteral("--precision")))
        args << QStringLiteral("--precision") << QString::fromLatin1(toString(p.precision));

    args << QStringLiteral("--device") << (o.device == RunOptions::Device::Gpu ? QStringLiteral("cuda") : QStringLiteral("cpu"));
    args << QStringLiteral("--data")
         << (o.data == RunOptions::Data::Synthetic ? QStringLiteral("synthetic") : o.dataPath);
    args << QStringLiteral("--steps") << QString::number(o.steps);
    args << QStringLiteral("--lr") << QString::number(o.lr, 'g', 6);
    if (o.checkpointEvery > 0) args << QStringLiteral("--checkpoint-every") << QString::number(o.checkpointEvery);
    if (o.evalEvery > 0) args << QStringLiteral("--eval-every") << QString::number(o.evalEvery);
    if (o.threads > 0) args << QStringLiteral("--threads") << QString::number(o.threads);
    args << QStringLiteral("--checkpoint-dir") << checkpointDir;
    args << o.extraArgs;
    return args;
}

QString checkRunOptions(const RunOptions& o)
{
    if (o.steps < 1) return QStringLiteral("Steps must be at least 1.");
    if (!(o.lr > 0)) return QStringLiteral("The learning rate must be above 0.");
    if (o.data != RunOptions::Data::Synthetic) {
        const QString what = o.data == RunOptions::Data::TextFile ? QStringLiteral("text file") : QStringLiteral("token file");
        if (o.dataPath.isEmpty()) return QStringLiteral("Choose a %1 to train on.").arg(what);
        if (!QFileInfo(o.dataPath).isReadable())
            return QStringLiteral("The %1 %2 does not exist or cannot be read.").arg(what, o.dataPath);
    }
    return {};
}

} // namespace meshwork::ui
