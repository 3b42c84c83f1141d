#include "ui/SearchResultsModel.h"

#include "ui/Format.h"

#include "core/spec/StageLayers.h"

#include <QFont>

namespace meshwork::ui {

SearchResultsModel::SearchResultsModel(QObject* parent) : QAbstractTableModel(parent) {}

void SearchResultsModel::setResults(std::vector<SearchResult> results)
{
    beginResetModel();
    m_results = std::move(results);
    endResetModel();
}

int SearchResultsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_results.size()); }
int SearchResultsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant SearchResultsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid()) return {};
    const SearchResult& r = m_results[size_t(index.row())];
    const Plan& p = r.plan;
    const Estimate& e = r.estimate;
    if (role == SortRole) {
        switch (index.column()) {
        case Pareto: return r.pareto ? 1 : 0;
        case Dp: return p.dp;
        case Tp: return p.tp;
        case Pp: return p.pp;
        case Vpp: return p.vpp;
        case StageLayers: return QString::fromStdString(formatStageLayers(p.stageLayers));
        case Cp: return p.cp;
        case Sp: return p.sp ? 1 : 0;
        case Zero: return p.zero;
        case Offload: return int(p.offload);
        case Recompute: return int(p.recompute);
        case MicroBatch: return qlonglong(p.microBatch);
        case TokensPerS: return e.throughput.tokensPerS;
        case Tflops: return e.throughput.tflopsPerGpu;
        case Mfu: return e.throughput.mfu;
        case MemoryGiB: return e.memory.totalGiB;
        case HeadroomGiB: return r.headroomGiB;
        }
    }
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Pareto: return r.pareto ? QStringLiteral("★") : QString();
        case Dp: return p.dp;
        case Tp: return p.tp;
        case Pp: return p.pp;
        case Vpp: return p.vpp;
        case StageLayers: return p.stageLayers.empty() ? QStringLiteral("even") : QString::fromStdString(formatStageLayers(p.stageLayers));
        case Cp: return p.cp;
        case Sp: return p.sp ? QStringLiteral("on") : QStringLiteral("off");
        case Zero: return p.zero;
        case Offload: return QString::fromLatin1(toString(p.offload));
        case Recompute: return QString::fromLatin1(toString(p.recompute));
        case MicroBatch: return qlonglong(p.microBatch);
        case TokensPerS: return formatCount(e.throughput.tokensPerS);
        case Tflops: return QString::number(e.throughput.tflopsPerGpu, 'f', 1);
        case Mfu: return formatPercent(e.throughput.mfu);
        case MemoryGiB: return QString::number(e.memory.totalGiB, 'f', 1);
        case HeadroomGiB: return QString::number(r.headroomGiB, 'f', 1);
        }
    }
    if (role == Qt::FontRole && r.pareto) {
        QFont f;
        f.setBold(true);
        return f;
    }
    if (role == Qt::TextAlignmentRole)
        return int((index.column() == Sp || index.column() == Offload || index.column() == Recompute
                            || index.column() == StageLayers
                        ? Qt::AlignLeft
                                                                                                    : Qt::AlignRight)
                   | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole) {
        QString t = r.pareto ? QStringLiteral("on the Pareto front: no other plan is both faster and has more headroom\n")
                             : QString();
        if (!e.valid && !e.errors.empty()) t += QString::fromStdString(e.errors.front()) + QLatin1Char('\n');
        return t + QStringLiteral("double-click to apply this plan");
    }
    return {};
}

QVariant SearchResultsModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal) return {};
    if (role == Qt::ToolTipRole && section == Pareto) return QStringLiteral("★: on the Pareto front of tokens/s against headroom");
    if (role != Qt::DisplayRole) return {};
    static const char* names[] = {"★", "tokens/s", "TFLOPS/GPU", "MFU", "GiB/GPU", "headroom GiB",
                                  "dp", "tp", "pp", "vpp", "stage layers", "cp", "sp", "zero", "offload", "recompute",
                                  "micro-batch"};
    return section >= 0 && section < ColumnCount ? QString::fromUtf8(names[section]) : QVariant();
}

} // namespace meshwork::ui
