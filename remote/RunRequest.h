// What a launcher needs to start one training run of N ranks.
#pragma once

#include <QString>
#include <QStringList>

namespace meshwork {

struct RunRequest {
    QString trainerPath;          // the meshwork-train executable
    QStringList trainerArgs;      // plan and training options, as meshwork-train takes them
    int nproc = 1;                // ranks on this machine
    QString runDir;               // events.jsonl, events.rank<N>.jsonl, rank<N>.log land here
    QString runId;
    QString masterAddr = QStringLiteral("127.0.0.1");
    int masterPort = 0;           // 0: pick a free port
    int graceSeconds = 10;        // after SIGTERM, before SIGKILL
};

} // namespace meshwork
