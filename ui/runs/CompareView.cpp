#include "ui/runs/CompareView.h"

#include "core/json/Json.h"
#include "core/runs/RunStore.h"
#include "ui/Theme.h"
#include "ui/runs/MetricChart.h"
#include "ui/runs/RunCharts.h"

#include <QCheckBox>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace meshwork::ui {

namespace {

const char* kSeries[] = {"loss", "val_loss", "lr", "grad_norm", "tokens_per_s", "tflops", "mfu", "step_ms", "mem_peak_gib", "host_wait_ms"};

MetricPoints toPoints(const Series& s)
{
    MetricPoints p;
    const qsizetype n = qsizetype(s.size());
    p.step.resize(n);
    p.tokens.resize(n);
    p.t.resize(n);
    p.value.resize(n);
    for (qsizetype i = 0; i < n; ++i) {
        p.step[i] = double(s.step[size_t(i)]);
        p.tokens[i] = i < qsizetype(s.tokens.size()) ? s.tokens[size_t(i)] : NAN;
        p.t[i] = i < qsizetype(s.t.size()) ? s.t[size_t(i)] : NAN;
        p.value[i] = s.value[size_t(i)];
    }
    return p;
}

QTableWidgetItem* cell(const QString& text, bool right = false)
{
    auto* item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    if (right) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QString fmt(const std::optional<double>& v, int decimals, const QString& unit = {})
{
    if (!v || !std::isfinite(*v)) return QStringLiteral("–");
    return QString::number(*v, 'f', decimals) + unit;
}

QString signedPct(const std::optional<double>& v)
{
    if (!v || !std::isfinite(*v)) return QStringLiteral("–");
    // err = (p - m) / m * 100, so p / m = 1 + err / 100: past +-1000% the ratio reads better.
    if (*v >= 1000) return QString::number(1 + *v / 100, 'g', 3) + QStringLiteral("x high");
    if (*v <= -90) return QString::number(1 / (1 + *v / 100), 'g', 3) + QStringLiteral("x low");
    return (*v >= 0 ? QStringLiteral("+") : QString()) + QString::number(*v, 'f', std::fabs(*v) < 10 ? 1 : 0) + QLatin1Char('%');
}

// A row whose values are JSON objects (the trainer's run_start nests "training" and "model"
// in the plan) becomes one row per key, "training.lr", so that the diff names the option that
// differs rather than a blob in which one field of twenty does.
void flattenRow(const ConfigDiff::Row& row, bool onlyDifferences, std::vector<ConfigDiff::Row>& out)
{
    std::vector<std::optional<Json>> parsed;
    bool objects = false;
    for (const std::string& v : row.values) {
        auto j = v.empty() ? std::nullopt : Json::parse(v);
        if (j && j->isObject()) objects = true;
        else if (!v.empty()) { objects = false; break; }
        parsed.push_back(std::move(j));
    }
    if (!objects) {
        if (!onlyDifferences || row.differs) out.push_back(row);
        return;
    }
    std::vector<std::string> keys;
    for (const auto& j : parsed)
        if (j)
            for (const auto& [k, v] : j->asObject())
                if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    for (const std::string& k : keys) {
        ConfigDiff::Row sub;
        sub.option = row.option + "." + k;
        for (const auto& j : parsed) {
            const Json* v = j ? j->find(k) : nullptr;
            sub.values.push_back(!v ? std::string() : v->isString() ? v->asString() : v->dump());
        }
        sub.differs = std::any_of(sub.values.begin(), sub.values.end(), [&](const std::string& v) { return v != sub.values.front(); });
        flattenRow(sub, onlyDifferences, out);
    }
}

} // namespace

CompareView::CompareView(RunStore& store, QWidget* parent) : QWidget(parent), m_store(store)
{
    m_charts = new RunCharts;
    m_charts->setObjectName(QStringLiteral("compareCharts"));
    m_onlyDiff = new QCheckBox(tr("Only differences"));
    m_onlyDiff->setObjectName(QStringLiteral("onlyDifferences"));
    m_onlyDiff->setChecked(true);
    m_diff = new QTableWidget;
    m_diff->setObjectName(QStringLiteral("configDiff"));
    m_diff->verticalHeader()->hide();
    m_summary = new QTableWidget;
    m_summary->setObjectName(QStringLiteral("compareSummary"));
    m_summary->verticalHeader()->hide();
    m_message = new QLabel;
    m_message->setWordWrap(true);

    auto* csv = new QPushButton(tr("Export series (CSV)…"));
    auto* png = new QPushButton(tr("Export charts (PNG)…"));
    auto* pdf = new QPushButton(tr("Export charts (PDF)…"));
    connect(csv, &QPushButton::clicked, this, [this] { exportDialog(QStringLiteral("csv")); });
    connect(png, &QPushButton::clicked, this, [this] { exportDialog(QStringLiteral("png")); });
    connect(pdf, &QPushButton::clicked, this, [this] { exportDialog(QStringLiteral("pdf")); });

    auto* diffPane = new QWidget;
    auto* diffLayout = new QVBoxLayout(diffPane);
    diffLayout->setContentsMargins(0, 0, 0, 0);
    diffLayout->addWidget(m_onlyDiff);
    diffLayout->addWidget(m_diff);

    auto* tables = new QTabWidget;
    tables->addTab(m_summary, tr("Summary"));
    tables->addTab(diffPane, tr("Configuration"));
    tables->setObjectName(QStringLiteral("compareTabs"));

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_charts);
    split->addWidget(tables);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_message, 1);
    buttons->addWidget(csv);
    buttons->addWidget(png);
    buttons->addWidget(pdf);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(split, 1);
    layout->addLayout(buttons);

    connect(m_onlyDiff, &QCheckBox::toggled, this, [this] { fillDiff(); });
}

bool CompareView::setRuns(const QStringList& runIds)
{
    QStringList ids = runIds;
    m_message->clear();
    if (ids.size() > kMaxRuns) {
        m_message->setText(tr("Comparing the first %1 of %2 runs.").arg(kMaxRuns).arg(ids.size()));
        ids = ids.mid(0, kMaxRuns);
    }
    m_ids = ids;
    m_infos.clear();
    m_charts->clear();
    try {
        int i = 0;
        for (const QString& id : ids) {
            auto info = m_store.runById(id.toStdString());
            if (!info) throw std::runtime_error("no run with id " + id.toStdString());
            m_infos.push_back(*info);
            PredictedFigures p;
            p.tokensPerS = info->predicted.tokensPerS.value_or(0);
            p.tflops = info->predicted.tflops.value_or(0);
            p.memGib = info->predicted.memGib.value_or(0);
            m_charts->setRun(id, QString::fromStdString(info->name.empty() ? info->id : info->name), categoryColor(i), p);
            QHash<QString, MetricPoints> metrics;
            for (const char* name : kSeries) {
                Series s = m_store.series(info->id, name);
                if (s.size() > 0) metrics.insert(QString::fromLatin1(name), toPoints(s));
            }
            m_charts->setRunMetrics(id, metrics);
            ++i;
        }
    } catch (const std::exception& e) {
        m_message->setText(QString::fromUtf8(e.what()));
        return false;
    }
    fillDiff();
    fillSummary();
    m_charts->replotNow();
    return true;
}

void CompareView::setOnlyDifferences(bool on) { m_onlyDiff->setChecked(on); fillDiff(); }

void CompareView::fillDiff()
{
    m_diff->clear();
    if (m_ids.isEmpty()) return;
    ConfigDiff diff;
    try {
        std::vector<std::string> ids;
        for (const QString& id : m_ids) ids.push_back(id.toStdString());
        diff = m_store.configDiff(ids, m_onlyDiff->isChecked());
    } catch (const std::exception& e) {
        m_message->setText(QString::fromUtf8(e.what()));
        return;
    }
    m_diff->setColumnCount(int(m_ids.size()) + 1);
    QStringList headers{tr("Option")};
    for (const RunInfo& r : m_infos) headers << QString::fromStdString(r.name.empty() ? r.id : r.name);
    m_diff->setHorizontalHeaderLabels(headers);
    for (int c = 1; c <= int(m_infos.size()); ++c)
        m_diff->horizontalHeaderItem(c)->setForeground(categoryColor(c - 1));
    std::vector<ConfigDiff::Row> rows;
    for (const ConfigDiff::Row& row : diff.rows) flattenRow(row, m_onlyDiff->isChecked(), rows);
    diff.rows = std::move(rows);
    m_diff->setRowCount(int(diff.rows.size()));
    QFont bold = m_diff->font();
    bold.setBold(true);
    for (int r = 0; r < int(diff.rows.size()); ++r) {
        const auto& row = diff.rows[size_t(r)];
        auto* name = cell(QString::fromStdString(row.option));
        if (row.differs) name->setFont(bold);
        m_diff->setItem(r, 0, name);
        for (int c = 0; c < int(row.values.size()); ++c) {
            auto* v = cell(row.values[size_t(c)].empty() ? QStringLiteral("–") : QString::fromStdString(row.values[size_t(c)]));
            if (row.differs) v->setFont(bold);
            m_diff->setItem(r, c + 1, v);
        }
    }
    m_diff->resizeColumnsToContents();
}

QStringList CompareView::diffOptions() const
{
    QStringList out;
    for (int r = 0; r < m_diff->rowCount(); ++r)
        if (auto* i = m_diff->item(r, 0)) out << i->text();
    return out;
}

void CompareView::fillSummary()
{
    const QStringList headers{tr("Run"), tr("Status"), tr("Final loss"), tr("Best loss"), tr("Mean tokens/s"),
                              tr("Mean TFLOPS"), tr("Mean MFU"), tr("Peak memory"), tr("Estimate error (tok/s, TFLOPS, mem)")};
    m_summary->clear();
    m_summary->setColumnCount(int(headers.size()));
    m_summary->setHorizontalHeaderLabels(headers);
    m_summary->setRowCount(int(m_infos.size()));
    for (int r = 0; r < int(m_infos.size()); ++r) {
        const RunInfo& info = m_infos[size_t(r)];
        RunSummary s;
        try {
            s = m_store.summary(info.id);
        } catch (const std::exception& e) {
            m_message->setText(QString::fromUtf8(e.what()));
        }
        auto* name = cell(QStringLiteral("■ ") + QString::fromStdString(info.name.empty() ? info.id : info.name));
        name->setForeground(categoryColor(r));
        m_summary->setItem(r, 0, name);
        m_summary->setItem(r, 1, cell(QString::fromLatin1(toString(info.status))));
        m_summary->setItem(r, 2, cell(fmt(s.finalLoss, 4), true));
        m_summary->setItem(r, 3, cell(fmt(s.bestLoss, 4) + (s.bestLossStep ? QStringLiteral(" @%1").arg(*s.bestLossStep) : QString()), true));
        m_summary->setItem(r, 4, cell(fmt(s.meanTokensPerS, 0), true));
        m_summary->setItem(r, 5, cell(fmt(s.meanTflops, 3), true));
        m_summary->setItem(r, 6, cell(s.meanMfu ? fmt(*s.meanMfu * 100, 2, QStringLiteral("%")) : QStringLiteral("–"), true));
        m_summary->setItem(r, 7, cell(fmt(s.peakMemGib, 3, QStringLiteral(" GiB")), true));
        m_summary->setItem(r, 8, cell(QStringLiteral("%1, %2, %3").arg(signedPct(s.tokensPerSErrorPct), signedPct(s.tflopsErrorPct),
                                                                       signedPct(s.memErrorPct)), true));
    }
    m_summary->resizeColumnsToContents();
}

QStringList CompareView::exportCsv(const QString& dir) const
{
    QStringList files;
    QDir().mkpath(dir);
    for (const QString& id : m_ids) {
        const QString file = QDir(dir).filePath(id + QStringLiteral(".csv"));
        try {
            m_store.exportSeriesCsv(id.toStdString(), file.toStdString());
            files << file;
        } catch (const std::exception& e) {
            m_message->setText(QString::fromUtf8(e.what()));
        }
    }
    return files;
}

QStringList CompareView::exportCharts(const QString& dir, const QString& format) const
{
    return m_charts->exportCharts(dir, QStringLiteral("compare-"), format);
}

void CompareView::exportDialog(const QString& kind)
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export to folder"));
    if (dir.isEmpty()) return;
    const QStringList files = kind == QLatin1String("csv") ? exportCsv(dir) : exportCharts(dir, kind);
    m_message->setText(tr("Wrote %1 file(s) to %2").arg(files.size()).arg(dir));
}

} // namespace meshwork::ui
