#include "ui/runs/LiveRunView.h"

#include "core/runs/RunStore.h"
#include "ui/Theme.h"
#include "ui/runs/RunCharts.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include <cmath>

namespace meshwork::ui {

LiveRunView::LiveRunView(QWidget* parent) : QWidget(parent)
{
    m_title = new QLabel(tr("No run yet: press Run in the planner, or pick a run in the table."));
    QFont f = m_title->font();
    f.setBold(true);
    m_title->setFont(f);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("liveStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stop = new QPushButton(tr("&Stop"));
    m_stop->setObjectName(QStringLiteral("stopButton"));
    m_stop->setToolTip(tr("Ask the trainer to checkpoint and end (SIGTERM)"));
    m_stop->setEnabled(false);
    connect(m_stop, &QPushButton::clicked, this, [this] {
        m_stop->setEnabled(false);
        m_stop->setText(tr("Stopping…"));
        emit stopRequested();
    });
    m_banner = new QLabel;
    m_banner->setObjectName(QStringLiteral("errorBanner"));
    m_banner->setWordWrap(true);
    m_banner->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_banner->hide();
    m_charts = new RunCharts;
    m_charts->setObjectName(QStringLiteral("liveCharts"));
    m_log = new QPlainTextEdit;
    m_log->setObjectName(QStringLiteral("runLog"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setPlaceholderText(tr("Checkpoints, logs and the trainer's messages appear here."));

    auto* head = new QHBoxLayout;
    head->addWidget(m_title);
    head->addWidget(m_status, 1);
    head->addWidget(m_stop);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_charts);
    split->addWidget(m_log);
    split->setStretchFactor(0, 5);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(head);
    layout->addWidget(m_banner);
    layout->addWidget(split, 1);
}

void LiveRunView::beginRun(const QString& runId, const QString& label, const PredictedFigures& predicted, const QString& command)
{
    m_runId = runId;
    m_state = QStringLiteral("starting");
    m_events = m_skipped = m_committed = 0;
    m_lastStep = -1;
    m_lastLoss = NAN;
    m_error.clear();
    m_lastProblem.clear();
    m_notices.clear();
    m_banner->hide();
    m_log->clear();
    m_title->setText(label);
    m_stop->setText(tr("&Stop"));
    m_stop->setEnabled(true);
    m_charts->clear();
    m_charts->setRun(runId, label, categoryColor(0), predicted);
    if (!predicted.any()) appendLog(tr("No planner prediction for this run: %1").arg(predicted.source));
    else appendLog(tr("Prediction: %1").arg(predicted.source));
    appendLog(command);
    updateStatus();
}

void LiveRunView::applyBatch(const LiveBatch& b)
{
    if (b.runId != m_runId) return;
    if (m_state == QLatin1String("starting")) m_state = QStringLiteral("running");
    m_charts->appendPoints(b.runId, b.metrics);
    auto loss = b.metrics.constFind(QStringLiteral("loss"));
    if (loss != b.metrics.constEnd() && loss->size()) {
        m_lastStep = loss->step.last();
        m_lastLoss = loss->value.last();
    }
    m_events = b.events;
    m_skipped = b.skippedLines;
    m_committed = b.committedRows;
    m_lastProblem = b.lastProblem;
    for (const RunNotice& n : b.notices) {
        m_notices << n.type + QStringLiteral(": ") + n.text;
        appendLog(QStringLiteral("[%1 s] %2").arg(n.t, 0, 'f', 1).arg(n.text));
        if (n.type == QLatin1String("error")) {
            m_error = n.text;
            m_banner->setText(n.text);
            m_banner->setStyleSheet(QStringLiteral("QLabel { color: %1; border: 1px solid %1; padding: 6px; }")
                                        .arg(errorColor(palette()).name()));
            m_banner->show();
        }
    }
    if (!b.endStatus.isEmpty()) m_state = b.endStatus;
    updateStatus();
}

void LiveRunView::finishRun(const QString& status)
{
    m_state = status;
    m_stop->setEnabled(false);
    m_stop->setText(tr("&Stop"));
    m_charts->replotNow();
    updateStatus();
}

void LiveRunView::appendLog(const QString& line) { m_log->appendPlainText(line); }

bool LiveRunView::showStored(RunStore& store, const QString& runId)
{
    try {
        auto info = store.runById(runId.toStdString());
        if (!info) return false;
        const QString label = QString::fromStdString(info->name.empty() ? info->id : info->name);
        PredictedFigures p;
        p.tokensPerS = info->predicted.tokensPerS.value_or(0);
        p.tflops = info->predicted.tflops.value_or(0);
        p.memGib = info->predicted.memGib.value_or(0);
        p.source = tr("stored with the run");
        beginRun(runId, label, p, tr("Stored run %1 (%2)").arg(runId, QString::fromLatin1(toString(info->status))));
        m_stop->setEnabled(false);
        QHash<QString, MetricPoints> metrics;
        for (const std::string& name : store.seriesNames(info->id)) {
            Series s = store.series(info->id, name);
            MetricPoints pts;
            for (size_t i = 0; i < s.size(); ++i)
                pts.append(double(s.step[i]), i < s.tokens.size() ? s.tokens[i] : NAN, i < s.t.size() ? s.t[i] : NAN, s.value[i]);
            metrics.insert(QString::fromStdString(name), pts);
        }
        m_charts->setRunMetrics(runId, metrics);
        for (const StoredEvent& e : store.events(info->id)) {
            if (e.type == "error") {
                auto j = Json::parse(e.json);
                const QString kind = j && j->find("kind") && j->find("kind")->isString() ? QString::fromStdString(j->find("kind")->asString()) : QString();
                const QString msg = j && j->find("message") && j->find("message")->isString() ? QString::fromStdString(j->find("message")->asString()) : QString();
                LiveBatch b;
                b.runId = runId;
                b.notices.append({QStringLiteral("error"), describeError(kind, msg), e.t});
                applyBatch(b);
            }
        }
        m_state = QString::fromLatin1(toString(info->status));
        m_lastStep = info->steps ? double(*info->steps) : -1;
        m_lastLoss = info->finalLoss.value_or(NAN);
        m_charts->replotNow();
        updateStatus();
        return true;
    } catch (const std::exception& e) {
        appendLog(QString::fromUtf8(e.what()));
        return false;
    }
}

QString LiveRunView::statusText() const { return m_status->text(); }
QString LiveRunView::errorText() const { return m_error; }

void LiveRunView::updateStatus()
{
    QStringList parts;
    parts << m_state;
    if (m_lastStep >= 0) parts << tr("step %1").arg(qint64(m_lastStep));
    if (std::isfinite(m_lastLoss)) parts << tr("loss %1").arg(m_lastLoss, 0, 'f', 4);
    parts << (m_events == 1 ? tr("1 event") : tr("%1 events").arg(m_events));
    if (m_skipped > 0)
        parts << (m_skipped == 1 ? tr("1 malformed line skipped") : tr("%1 malformed lines skipped").arg(m_skipped));
    m_status->setText(parts.join(QStringLiteral(" · ")));
    m_status->setToolTip(m_lastProblem.isEmpty() ? QString() : tr("Last skipped line: %1").arg(m_lastProblem));
}

} // namespace meshwork::ui
