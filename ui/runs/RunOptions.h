// What the Run dialog asks for, and how it becomes a meshwork-train command line. Kept out
// of the dialog so that tests check the arguments without a widget.
#pragma once

#include "core/spec/ModelSpec.h"
#include "core/spec/Plan.h"

#include <QString>
#include <QStringList>

namespace meshwork::ui {

struct RunOptions {
    enum class Device { Cpu, Gpu };
    enum class Data { Synthetic, TextFile, TokenFile };

    QString name;                 // shown in the runs table; empty: the run id
    Device device = Device::Cpu;
    Data data = Data::Synthetic;
    QString dataPath;             // TextFile / TokenFile
    qint64 steps = 200;
    double lr = 6e-4;
    qint64 checkpointEvery = 0;   // 0: only when stopped
    qint64 evalEvery = 0;         // 0: only at the end
    int threads = 0;              // CPU threads per rank; 0: LibTorch's choice
    QStringList extraArgs;        // passed through unchanged (tests, expert use)
};

// The trainer: $MESHWORK_TRAINER if set, else meshwork-train beside this executable.
QString trainerPath();

// Ranks to start for a plan: its world size (dp x tp x pp x cp).
int ranksFor(const Plan& plan);

// meshwork-train arguments for one run (without --events and --run-id, which the launcher
// adds). The model is named by its catalog name, with any dimension that differs from the
// catalog entry given explicitly; the plan goes as planToArgs(); CPU runs train in fp32.
// checkpointDir: where checkpoints go (the run folder's ckpt/).
QStringList trainerArguments(const ModelSpec& model, const Plan& plan, const RunOptions& options,
                             const QString& checkpointDir);

// Plain words for a problem with the options ("choose a token file to train on"), or empty.
QString checkRunOptions(const RunOptions& options);

} // namespace meshwork::ui
