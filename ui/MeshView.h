// The mesh designer's picture: every GPU of the cluster as a cell, grouped by node (each
// node is an NVLink island, or a PCIe box), cells coloured by one axis of the rank layout
// (core/spec/RankLayout.h). Hovering a cell tells its rank, coordinates and memory.
// Painted (paintEvent), not a table: 512 GPUs must read at a glance.
#pragma once

#include "core/planner/Estimate.h"
#include "core/spec/RankLayout.h"
#include "ui/PlanState.h"

#include <QFont>
#include <QPixmap>
#include <QStaticText>
#include <QWidget>

#include <optional>
#include <vector>

namespace meshwork::ui {

enum class ColorAxis { TpGroup, PpStage, DpReplica, CpGroup };
QString colorAxisName(ColorAxis a);

class MeshView : public QWidget {
    Q_OBJECT
public:
    explicit MeshView(QWidget* parent = nullptr);

    void setData(const PlanState& state, const Estimate& estimate);
    void setColorAxis(ColorAxis axis);
    ColorAxis colorAxis() const { return m_axis; }

    // What the picture shows, for tests and the panel's notes.
    struct Cell {
        int rank = -1;           // -1: a GPU that the plan leaves idle
        RankCoord coord;
        int colorKey = 0;        // group or coordinate along the colour axis
        bool tpCrossesNode = false;
        QRectF rect;
    };
    const std::vector<Cell>& cells() const { return m_cells; }
    int colorKeyCount() const { return m_keyCount; }
    // TP groups whose ranks sit on more than one node: "ranks 0-15 on nodes 0-1".
    const QStringList& crossNodeGroups() const { return m_crossNode; }
    // The legend's label of colour key k: the key, and under the pipeline-stage colouring the
    // stage's layers ("1: 6 layers").
    QString keyLabel(int k) const;
    bool hasLayout() const { return m_layout.has_value(); }
    // The cell under a point, or nullptr.
    const Cell* cellAt(const QPointF& p) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;
    void changeEvent(QEvent* e) override;
    bool event(QEvent* e) override;

private:
    // What a repaint after rebuild() must cover: nothing when the picture is unchanged
    // (a micro-batch drag), the cells that changed, or all of it.
    void rebuild();
    void relayout();
    QString toolTipFor(const Cell& c) const;
    const QStaticText& rankLabel(int rank, const QFont& font) const;
    // The picture's unchanging part (background, node frames and their labels), drawn once
    // per size, palette and cluster: a drag only repaints the cells over it.
    const QPixmap& nodesLayer();
    void paintNodes(QPainter& p) const;
    void paintLegend(QPainter& p) const;
    void paintCells(QPainter& p, const QRegion& region);
    QString extraRanksText() const;
    QRect extraRanksRect() const;
    double crossOutlineWidth() const; // the red outline of a cell whose TP group crosses nodes

    PlanState m_state;
    Estimate m_estimate;
    ColorAxis m_axis = ColorAxis::TpGroup;
    std::optional<RankLayout> m_layout;
    std::vector<Cell> m_cells;   // one per GPU of the cluster, node-major
    std::vector<QRectF> m_nodeRects;
    int m_keyCount = 1;
    int m_extraRanks = 0;        // ranks beyond the cluster's GPUs
    QStringList m_crossNode;
    double m_cellSize = 0;
    QRectF m_legendRect;
    mutable std::vector<QStaticText> m_labels; // rank numbers, laid out once per font
    mutable QFont m_labelFont;
    QPixmap m_nodesLayer;
    bool m_nodesLayerValid = false;
    QString m_linkName;          // the nodes' intra-node link, named in the node frames
    ColorAxis m_legendAxis = ColorAxis::TpGroup; // the axis the legend was built for
    std::vector<int64_t> m_legendStageLayers;    // and the layers of each stage it named (pp colouring)
    int m_layoutGpn = 0;         // GPUs per node the cell rects were laid out for
};

} // namespace meshwork::ui
