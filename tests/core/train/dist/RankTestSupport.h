// What the multi-process tests share: a free loopback port for a run's rendezvous, each rank's
// torchrun environment, and the events a rank wrote (one JSON object per line; lines that do
// not parse are skipped, as the run store's reader does).
#pragma once

#include "core/json/Json.h"

#include <QFile>
#include <QHostAddress>
#include <QProcessEnvironment>
#include <QString>
#include <QTcpServer>

#include <vector>

namespace meshwork::test {

inline int freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

// This process's environment plus the variables torchrun sets for one rank of a local run.
inline QProcessEnvironment rankEnvironment(int rank, int nproc, int port)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("RANK", QString::number(rank));
    env.insert("LOCAL_RANK", QString::number(rank));
    env.insert("WORLD_SIZE", QString::number(nproc));
    env.insert("LOCAL_WORLD_SIZE", QString::number(nproc));
    env.insert("MASTER_ADDR", "127.0.0.1");
    env.insert("MASTER_PORT", QString::number(port));
    return env;
}

inline std::vector<Json> readEvents(const QString& path)
{
    std::vector<Json> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return out;
    for (const QByteArray& line : f.readAll().split('\n')) {
        auto j = Json::parse(line.toStdString());
        if (j && j->isObject()) out.push_back(std::move(*j));
    }
    return out;
}

} // namespace meshwork::test
