#include "ui/MeshView.h"

#include "ui/Format.h"
#include "ui/Theme.h"

#include "core/spec/StageLayers.h"

#include <QHelpEvent>
#include <QPainter>
#include <QStaticText>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace meshwork::ui {

namespace {
constexpr double kNodeGap = 10;   // px between node boxes
constexpr double kMargin = 8;
constexpr double kMaxCell = 64;

// A rectangle on the pixel grid the way aliased drawing rounds it: each edge to the nearest
// pixel (QRectF::toRect() rounds the width instead, and cells came out one pixel uneven).
QRect snapped(const QRectF& r)
{
    const int l = qRound(r.left()), t = qRound(r.top());
    return QRect(l, t, qRound(r.right()) - l, qRound(r.bottom()) - t);
}

QString rangeText(const std::vector<int>& ranks)
{
    if (ranks.empty()) return {};
    bool contiguous = true;
    for (size_t i = 1; i < ranks.size(); ++i) contiguous = contiguous && ranks[i] == ranks[i - 1] + 1;
    if (ranks.size() == 1) return QString::number(ranks[0]);
    if (contiguous) return QStringLiteral("%1–%2").arg(ranks.front()).arg(ranks.back());
    QStringList parts;
    for (size_t i = 0; i < ranks.size() && i < 8; ++i) parts << QString::number(ranks[i]);
    if (ranks.size() > 8) parts << QStringLiteral("…");
    return parts.join(QStringLiteral(", "));
}
} // namespace

QString colorAxisName(ColorAxis a)
{
    switch (a) {
    case ColorAxis::TpGroup: return QStringLiteral("TP group");
    case ColorAxis::PpStage: return QStringLiteral("PP stage");
    case ColorAxis::DpReplica: return QStringLiteral("DP replica");
    case ColorAxis::CpGroup: return QStringLiteral("CP group");
    }
    return {};
}

MeshView::MeshView(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("meshView"));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    // paintEvent() covers every pixel it is asked for (the cached frames are opaque): Qt
    // need not fill the background under it first.
    setAttribute(Qt::WA_OpaquePaintEvent, true);
}

QSize MeshView::sizeHint() const { return {560, 320}; }
QSize MeshView::minimumSizeHint() const { return {240, 140}; }

void MeshView::setData(const PlanState& state, const Estimate& estimate)
{
    m_state = state;
    m_estimate = estimate;
    rebuild(); // schedules the repaint (update(), coalesced: one per frame)
}

void MeshView::setColorAxis(ColorAxis axis)
{
    if (axis == m_axis) return;
    m_axis = axis;
    rebuild();
}

void MeshView::rebuild()
{
    // What the picture showed, to repaint only what changes.
    const std::vector<Cell> before = std::move(m_cells);
    const int keyCountBefore = m_keyCount, extraBefore = m_extraRanks;
    const bool layoutBefore = m_layout.has_value();
    const ColorAxis axisBefore = m_legendAxis;
    const std::vector<int64_t> stageLayersBefore = m_legendStageLayers;
    const QString linkBefore = m_linkName;

    const Plan& p = m_state.plan;
    const int gpn = std::max(1, m_state.cluster.gpusPerNode);
    const int gpus = std::max(1, m_state.cluster.worldSize());
    m_layout.reset();
    m_crossNode.clear();
    if (p.tp >= 1 && p.cp >= 1 && p.dp >= 1 && p.pp >= 1 && int64_t(p.worldSize()) <= 1 << 20) {
        try {
            m_layout.emplace(p);
        } catch (const std::exception&) {
            m_layout.reset(); // a bad order string: the panel lists the reason
        }
    }
    const int world = m_layout ? m_layout->worldSize() : 0;
    m_extraRanks = std::max(0, world - gpus);

    // Colour key per rank: group index for TP/CP groups, coordinate for stages and replicas.
    std::vector<int> key(size_t(std::max(world, 0)), 0);
    std::vector<char> crosses(key.size(), 0);
    m_keyCount = 1;
    if (m_layout) {
        auto byGroups = [&](Axis a) {
            const auto groups = m_layout->groups(a);
            for (size_t g = 0; g < groups.size(); ++g)
                for (int r : groups[g]) key[size_t(r)] = int(g);
            m_keyCount = int(groups.size());
        };
        auto byCoord = [&](Axis a) {
            for (int r = 0; r < world; ++r) key[size_t(r)] = m_layout->coordOf(r)[a];
            m_keyCount = m_layout->size(a);
        };
        switch (m_axis) {
        case ColorAxis::TpGroup: byGroups(Axis::Tp); break;
        case ColorAxis::CpGroup: byGroups(Axis::Cp); break;
        case ColorAxis::PpStage: byCoord(Axis::Pp); break;
        case ColorAxis::DpReplica: byCoord(Axis::Dp); break;
        }
        // A TP group whose ranks sit on two nodes runs its per-layer all-reduces over the
        // network instead of NVLink: an order of magnitude slower (450 vs 50 GB/s on H100).
        if (m_layout->size(Axis::Tp) > 1) {
            for (const auto& g : m_layout->groups(Axis::Tp)) {
                const int first = g.front() / gpn, last = g.back() / gpn;
                bool spans = false;
                for (int r : g) spans = spans || r / gpn != first;
                if (!spans) continue;
                for (int r : g) crosses[size_t(r)] = 1;
                if (m_crossNode.size() < 4)
                    m_crossNode << QStringLiteral("ranks %1 on nodes %2–%3").arg(rangeText(g)).arg(first).arg(last);
                else if (m_crossNode.size() == 4)
                    m_crossNode << QStringLiteral("…");
            }
        }
    }

    m_cells.assign(size_t(gpus), Cell{});
    for (int g = 0; g < gpus; ++g) {
        Cell& c = m_cells[size_t(g)];
        if (g < world) {
            c.rank = g;
            c.coord = m_layout->coordOf(g);
            c.colorKey = key[size_t(g)];
            c.tpCrossesNode = crosses[size_t(g)];
        }
    }
    m_legendAxis = m_axis;
    m_legendStageLayers.clear();
    if (m_axis == ColorAxis::PpStage)
        for (int k = 0; k < m_keyCount; ++k) m_legendStageLayers.push_back(layersOfPipelineRank(p, m_state.model.layers, k));
    m_linkName = QString::fromStdString(m_state.cluster.gpu.intraNodeLink);

    const bool sameGrid = before.size() == m_cells.size() && m_nodeRects.size() == size_t(std::max(1, m_state.cluster.nodes)) &&
                          m_layoutGpn == gpn;
    if (!sameGrid || m_linkName != linkBefore) {
        relayout();
        update();
        return;
    }
    // Same cluster: the cells keep their places; repaint the legend, the note under the
    // picture and the cells whose colour, outline or use changed (none in a micro-batch drag).
    QRegion dirty;
    if (m_keyCount != keyCountBefore || m_layout.has_value() != layoutBefore || m_axis != axisBefore
        || m_legendStageLayers != stageLayersBefore)
        dirty += m_legendRect.toAlignedRect();
    if (m_extraRanks != extraBefore) dirty += extraRanksRect();
    QRect cells;
    for (size_t g = 0; g < m_cells.size(); ++g) {
        Cell& c = m_cells[g];
        const Cell& b = before[g];
        c.rect = b.rect;
        if ((c.rank < 0) != (b.rank < 0) || c.colorKey != b.colorKey || c.tpCrossesNode != b.tpCrossesNode)
            cells |= c.rect.toAlignedRect();
    }
    if (!cells.isEmpty()) {
        const int outline = int(std::ceil(crossOutlineWidth())) + 1; // a cross-node outline reaches past the cell
        dirty += cells.adjusted(-outline, -outline, outline, outline);
    }
    if (!dirty.isEmpty()) update(dirty);
}

double MeshView::crossOutlineWidth() const { return std::max(2.0, m_cellSize * 0.08); }

QRect MeshView::extraRanksRect() const
{
    const int h = fontMetrics().height() + 4;
    return QRect(0, height() - h - 2, width(), h + 2);
}

QString MeshView::extraRanksText() const
{
    return m_extraRanks > 0 ? QStringLiteral("%1 ranks have no GPU").arg(m_extraRanks) : QString();
}

void MeshView::resizeEvent(QResizeEvent*)
{
    relayout(); // a resize repaints the whole widget anyway
}

void MeshView::changeEvent(QEvent* e)
{
    QWidget::changeEvent(e);
    if (e->type() == QEvent::FontChange) relayout();
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::StyleChange) m_nodesLayerValid = false;
}

void MeshView::relayout()
{
    const int nodes = std::max(1, m_state.cluster.nodes);
    const int gpn = std::max(1, m_state.cluster.gpusPerNode);
    const QFontMetricsF fm(font());
    const double legendH = fm.height() * 1.6;
    const double W = width() - 2 * kMargin;
    const double H = height() - 2 * kMargin - legendH;
    m_legendRect = QRectF(kMargin, kMargin, W, legendH);
    m_layoutGpn = gpn;
    m_nodesLayerValid = false;

    std::vector<int> gpuColOptions = {gpn, int(std::ceil(std::sqrt(double(gpn))))};
    if (gpn % 2 == 0) gpuColOptions.push_back(gpn / 2);

    struct Choice { double s = 0; int nodeCols = 1, gpuCols = 1; double header = 0; };
    Choice best;
    for (double header : {fm.height() + 4.0, 0.0}) {
        for (int gpuCols : gpuColOptions) {
            const int gpuRows = (gpn + gpuCols - 1) / gpuCols;
            const double kw = gpuCols * 1.1 + 0.2, kh = gpuRows * 1.1 + 0.2;
            for (int nodeCols = 1; nodeCols <= nodes; ++nodeCols) {
                const int nodeRows = (nodes + nodeCols - 1) / nodeCols;
                const double sw = (W - (nodeCols - 1) * kNodeGap) / (nodeCols * kw);
                const double sh = (H - (nodeRows - 1) * kNodeGap - nodeRows * header) / (nodeRows * kh);
                const double s = std::min({sw, sh, kMaxCell});
                if (s > best.s + 0.01) best = {s, nodeCols, gpuCols, header};
            }
        }
        if (best.s >= 16) break; // room for the node labels
    }
    m_cellSize = std::max(best.s, 2.0);
    const double s = m_cellSize, gap = s * 0.1, pad = s * 0.15;
    const int gpuCols = best.gpuCols, gpuRows = (gpn + gpuCols - 1) / gpuCols;
    const double nodeW = gpuCols * s + (gpuCols - 1) * gap + 2 * pad;
    const double nodeH = best.header + gpuRows * s + (gpuRows - 1) * gap + 2 * pad;
    const int nodeRows = (nodes + best.nodeCols - 1) / best.nodeCols;
    const double totalW = best.nodeCols * nodeW + (best.nodeCols - 1) * kNodeGap;
    const double totalH = nodeRows * nodeH + (nodeRows - 1) * kNodeGap;
    const double x0 = kMargin + std::max(0.0, (W - totalW) / 2);
    const double y0 = kMargin + legendH + std::max(0.0, (H - totalH) / 2);

    m_nodeRects.assign(size_t(nodes), QRectF());
    for (int n = 0; n < nodes; ++n) {
        const QRectF box(x0 + (n % best.nodeCols) * (nodeW + kNodeGap), y0 + (n / best.nodeCols) * (nodeH + kNodeGap),
                         nodeW, nodeH);
        m_nodeRects[size_t(n)] = box;
        for (int l = 0; l < gpn; ++l) {
            const size_t g = size_t(n) * size_t(gpn) + size_t(l);
            if (g >= m_cells.size()) break;
            m_cells[g].rect = QRectF(box.left() + pad + (l % gpuCols) * (s + gap),
                                     box.top() + best.header + pad + (l / gpuCols) * (s + gap), s, s);
        }
    }
}

const MeshView::Cell* MeshView::cellAt(const QPointF& p) const
{
    for (const Cell& c : m_cells)
        if (c.rect.contains(p)) return &c;
    return nullptr;
}

QString MeshView::toolTipFor(const Cell& c) const
{
    const int gpn = std::max(1, m_state.cluster.gpusPerNode);
    const size_t index = size_t(&c - m_cells.data());
    const int node = int(index) / gpn, local = int(index) % gpn;
    QString t = QStringLiteral("<b>node %1, GPU %2</b>").arg(node).arg(local);
    if (c.rank < 0) return t + QStringLiteral("<br>idle: the plan uses %1 of %2 GPUs")
                                   .arg(m_layout ? m_layout->worldSize() : 0).arg(m_cells.size());
    t += QStringLiteral(" — rank %1<br>tp %2 · cp %3 · dp %4 · pp %5")
             .arg(c.rank).arg(c.coord[Axis::Tp]).arg(c.coord[Axis::Cp]).arg(c.coord[Axis::Dp]).arg(c.coord[Axis::Pp]);
    if (m_layout && m_layout->size(Axis::Tp) > 1)
        t += QStringLiteral("<br>TP group: ranks %1").arg(rangeText(m_layout->groupOf(c.rank, Axis::Tp)));
    const auto& stages = m_estimate.memory.stages;
    const int stage = c.coord[Axis::Pp];
    if (stage >= 0 && size_t(stage) < stages.size()) {
        const StageMemory& m = stages[size_t(stage)];
        t += QStringLiteral("<br>memory: %1 of %2 (stage %3, %4 layers)")
                 .arg(formatGiB(m.total), formatGiB(m_state.cluster.gpu.memoryGiB)).arg(stage).arg(m.layers);
        if (m.host > 0) t += QStringLiteral("<br>host RAM: %1").arg(formatGiB(m.host));
    }
    if (c.tpCrossesNode) t += QStringLiteral("<br><b>its TP group crosses nodes</b>");
    return t;
}

const QStaticText& MeshView::rankLabel(int rank, const QFont& font) const
{
    if (font != m_labelFont) {
        m_labels.clear();
        m_labelFont = font;
    }
    if (size_t(rank) >= m_labels.size()) m_labels.resize(size_t(rank) + 1);
    QStaticText& t = m_labels[size_t(rank)];
    if (t.text().isEmpty()) {
        t.setText(QString::number(rank));
        t.setTextFormat(Qt::PlainText);
        t.prepare(QTransform(), font);
    }
    return t;
}

bool MeshView::event(QEvent* e)
{
    if (e->type() == QEvent::ToolTip) {
        auto* he = static_cast<QHelpEvent*>(e);
        if (const Cell* c = cellAt(he->pos())) QToolTip::showText(he->globalPos(), toolTipFor(*c), this, c->rect.toRect());
        else QToolTip::hideText();
        return true;
    }
    return QWidget::event(e);
}

const QPixmap& MeshView::nodesLayer()
{
    const qreal dpr = devicePixelRatioF();
    const QSize pixels = (QSizeF(size()) * dpr).toSize();
    if (m_nodesLayerValid && m_nodesLayer.size() == pixels && m_nodesLayer.devicePixelRatio() == dpr) return m_nodesLayer;
    m_nodesLayer = QPixmap(pixels);
    m_nodesLayer.setDevicePixelRatio(dpr);
    QPainter p(&m_nodesLayer);
    p.setFont(font());
    paintNodes(p);
    m_nodesLayerValid = true;
    return m_nodesLayer;
}

void MeshView::paintNodes(QPainter& p) const
{
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette& pal = palette();
    p.fillRect(rect(), pal.color(QPalette::Base));

    // Nodes: each one an NVLink island (solid frame) or a PCIe box (dashed frame).
    const QFontMetricsF fm(font());
    const bool nvlink = m_linkName.contains(QStringLiteral("NVLink"));
    const QString linkName = m_linkName.section(QLatin1Char(' '), 0, 1);
    QFont small = font();
    small.setPointSizeF(std::max(6.0, font().pointSizeF() * 0.85));
    for (size_t n = 0; n < m_nodeRects.size(); ++n) {
        const QRectF box = m_nodeRects[n];
        QPen frame(nvlink ? pal.color(QPalette::Highlight) : pal.color(QPalette::Mid), nvlink ? 1.6 : 1.2);
        if (!nvlink) frame.setStyle(Qt::DashLine);
        p.setPen(frame);
        p.setBrush(pal.color(QPalette::AlternateBase));
        p.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), 6, 6);
        if (m_cellSize >= 16 && box.height() > m_cellSize + fm.height()) {
            p.setFont(small);
            p.setPen(pal.color(QPalette::Text));
            const QString label = box.width() > fm.horizontalAdvance(QStringLiteral("node 00 · NVLink 4")) + 12
                                      ? QStringLiteral("node %1 · %2").arg(n).arg(linkName)
                                      : QStringLiteral("node %1").arg(n);
            p.drawText(box.adjusted(m_cellSize * 0.15, 2, -4, 0), Qt::AlignLeft | Qt::AlignTop, label);
            p.setFont(font());
        }
    }
}

void MeshView::paintLegend(QPainter& p) const
{
    // What the colours mean.
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette& pal = palette();
    const QFontMetricsF fm(font());
    double x = m_legendRect.left();
    const double ly = m_legendRect.top(), sw = fm.height() * 0.9;
    p.setPen(pal.color(QPalette::Text));
    const QString title = QStringLiteral("Colour: %1").arg(colorAxisName(m_axis));
    p.drawText(QPointF(x, ly + fm.ascent()), title);
    x += fm.horizontalAdvance(title) + 12;
    const int shown = std::min(m_keyCount, 16);
    for (int k = 0; k < shown && m_layout; ++k) {
        const QString label = keyLabel(k);
        const double need = sw + 4 + fm.horizontalAdvance(label) + 10;
        if (x + need > m_legendRect.right() - fm.horizontalAdvance(QStringLiteral("… 999 more"))) break;
        p.setPen(Qt::NoPen);
        p.setBrush(categoryColor(k));
        p.drawRoundedRect(QRectF(x, ly + (fm.height() - sw) / 2, sw, sw), 2, 2);
        p.setPen(pal.color(QPalette::Text));
        p.drawText(QPointF(x + sw + 4, ly + fm.ascent()), label);
        x += need;
        if (k == shown - 1 && m_keyCount > shown)
            p.drawText(QPointF(x, ly + fm.ascent()), QStringLiteral("… %1 more").arg(m_keyCount - shown));
    }
    if (!m_layout) {
        p.setPen(errorColor(pal));
        p.drawText(QPointF(x, ly + fm.ascent()), QStringLiteral("no rank layout: see the problems below"));
    }
}

QString MeshView::keyLabel(int k) const
{
    if (m_axis != ColorAxis::PpStage || k >= int(m_legendStageLayers.size())) return QString::number(k);
    const int64_t layers = m_legendStageLayers[size_t(k)];
    return QStringLiteral("%1: %2 layer%3").arg(k).arg(layers).arg(layers == 1 ? "" : "s");
}

void MeshView::paintCells(QPainter& p, const QRegion& region)
{
    const QPalette& pal = palette();
    QFont cellFont = font();
    cellFont.setPixelSize(std::max(7, int(m_cellSize * 0.32)));
    p.setFont(cellFont);
    const QColor error = errorColor(pal);
    const bool everything = region.boundingRect().contains(rect());
    // Hundreds of small cells: square and aliased is as clear and several times cheaper
    // to rasterise than antialiased rounded corners (the drag budget is one frame). Their
    // fills and outlines are then plain rectangles (fillRect), not stroked paths.
    const bool fine = m_cellSize >= 30;
    p.setRenderHint(QPainter::Antialiasing, fine);
    const double radius = fine ? std::min(4.0, m_cellSize * 0.15) : 0.0;
    const double crossWidth = crossOutlineWidth();
    const int crossOuter = int(std::lround(crossWidth)) / 2, crossInner = int(std::lround(crossWidth)) - crossOuter;
    const QPen idlePen(pal.color(QPalette::Mid), 1, Qt::DashLine);
    const QBrush idleBrush(pal.color(QPalette::Mid), Qt::BDiagPattern);
    int lastKey = -1;
    QColor fill, outline, text;
    for (const Cell& c : m_cells) {
        if (!everything && !region.intersects(c.rect.toAlignedRect().adjusted(-crossOuter - 1, -crossOuter - 1, crossOuter + 1, crossOuter + 1)))
            continue;
        if (c.rank < 0) {
            p.setPen(idlePen);
            p.setBrush(idleBrush);
            if (fine) p.drawRoundedRect(c.rect.adjusted(1, 1, -1, -1), radius, radius);
            else p.drawRect(c.rect.adjusted(1, 1, -1, -1));
            continue;
        }
        if (c.colorKey != lastKey) { // cells of a group sit together: one colour lookup per group
            lastKey = c.colorKey;
            fill = categoryColor(c.colorKey);
            outline = fill.darker(130);
            text = textOn(fill);
        }
        if (fine) {
            p.setPen(c.tpCrossesNode ? QPen(error, crossWidth) : QPen(outline, 1));
            p.setBrush(fill);
            p.drawRoundedRect(c.rect.adjusted(1, 1, -1, -1), radius, radius);
        } else if (c.tpCrossesNode) {
            // A 2 px pen is stroked as a path, hundreds of times in a drag past tp 8: two
            // filled rectangles draw the same outline.
            const QRect r = snapped(c.rect.adjusted(1, 1, -1, -1));
            p.fillRect(r.adjusted(-crossOuter, -crossOuter, crossOuter, crossOuter), error);
            p.fillRect(r.adjusted(crossInner, crossInner, -crossInner, -crossInner), fill);
        } else { // a 1 px aliased pen takes the raster engine's fast path
            p.setPen(outline);
            p.setBrush(fill);
            p.drawRect(c.rect.adjusted(1, 1, -1, -1));
        }
        if (m_cellSize >= 18) {
            // Laid-out rank numbers are cached (QStaticText): shaping 512 strings per frame
            // was most of a drag's paint time.
            const QStaticText& label = rankLabel(c.rank, cellFont);
            p.setPen(text);
            const QSizeF size = label.size();
            p.drawStaticText(QPointF(c.rect.center().x() - size.width() / 2, c.rect.center().y() - size.height() / 2), label);
        }
    }
    p.setFont(font());
}

void MeshView::paintEvent(QPaintEvent* e)
{
    QPainter p(this);
    // The cached frames under the region to repaint, then what changes from edit to edit.
    const QPixmap& layer = nodesLayer();
    const qreal dpr = layer.devicePixelRatio();
    for (const QRect& r : e->region())
        p.drawPixmap(r, layer, QRectF(r.x() * dpr, r.y() * dpr, r.width() * dpr, r.height() * dpr));
    if (e->region().intersects(m_legendRect.toAlignedRect())) paintLegend(p);
    paintCells(p, e->region());
    if (m_extraRanks > 0) {
        p.setRenderHint(QPainter::Antialiasing);
        p.setPen(errorColor(palette()));
        p.drawText(rect().adjusted(int(kMargin), 0, -int(kMargin), -4), Qt::AlignBottom | Qt::AlignRight, extraRanksText());
    }
}

} // namespace meshwork::ui
