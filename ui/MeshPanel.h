// The mesh designer: the degrees (dp, tp, pp, vpp, cp) as sliders and spin boxes, the axis
// order, the layers of each pipeline stage, the painted mesh and every reason the layout is invalid. Nothing is ever disabled:
// an invalid plan stays editable so the user can fix it.
#pragma once

#include <QWidget>

#include <map>

class QComboBox;
class QLineEdit;
class QPushButton;

namespace meshwork::ui {

class DegreeControl;
class IssueList;
class MeshView;
class PlanDocument;

class MeshPanel : public QWidget {
    Q_OBJECT
public:
    MeshPanel(PlanDocument* doc, QWidget* parent = nullptr);

    DegreeControl* degree(const QString& name) const; // "dp", "tp", "pp", "vpp", "cp"
    MeshView* view() const { return m_view; }
    IssueList* issues() const { return m_issues; }
    QComboBox* colorAxisBox() const { return m_axisBox; }
    QComboBox* orderBox() const { return m_orderBox; }
    // The layers of each pipeline stage ("8,4"; empty: even), and the button that fills in
    // the split whose stages take equal time (StageBalance.h).
    QLineEdit* stageLayersEdit() const { return m_stageLayers; }
    QPushButton* balanceButton() const { return m_balance; }

private:
    void refresh();
    void editDegree(const QString& name, int value, const QString& mergeKey);
    void applyStageLayers(const QString& text);
    void balanceStages();

    PlanDocument* m_doc;
    std::map<QString, DegreeControl*> m_degrees;
    QComboBox* m_axisBox;
    QComboBox* m_orderBox;
    QLineEdit* m_stageLayers;
    QPushButton* m_balance;
    MeshView* m_view;
    IssueList* m_issues;
};

} // namespace meshwork::ui
