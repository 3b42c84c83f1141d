// Plan search off the GUI thread: a QObject living on a QThread that talks only by signals
// (CONVENTIONS.md, Tiled's FolderScanner). Cancel is a shared flag the search polls through
// its progress callback; shutdown is requestInterruption(), quit(), wait().
#pragma once

#include "core/planner/Search.h"

#include <QMetaType>
#include <QObject>

#include <atomic>
#include <memory>

namespace meshwork::ui {

struct SearchRequest {
    ModelSpec model;
    ClusterSpec cluster;
    SearchOptions options; // progress is set by the worker
};

struct SearchReply {
    SearchOutcome outcome;
    QString error;         // non-empty when the search threw
    double seconds = 0;
};

class SearchWorker : public QObject {
    Q_OBJECT
public:
    explicit SearchWorker(std::shared_ptr<std::atomic<bool>> cancel, QObject* parent = nullptr);

public slots:
    void run(const meshwork::ui::SearchRequest& request);

signals:
    void progress(double fraction);
    void finished(const meshwork::ui::SearchReply& reply);

private:
    std::shared_ptr<std::atomic<bool>> m_cancel;
};

} // namespace meshwork::ui

Q_DECLARE_METATYPE(meshwork::ui::SearchRequest)
Q_DECLARE_METATYPE(meshwork::ui::SearchReply)
