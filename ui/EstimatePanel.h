// The live estimate: tokens/s, TFLOPS per GPU, MFU, the step time split into its terms,
// and the time and cost to train a chosen number of tokens; every problem in words.
#pragma once

#include <QWidget>

class QDoubleSpinBox;
class QLabel;

namespace meshwork::ui {

class IssueList;
class PlanDocument;
class StepTimeBar;

class EstimatePanel : public QWidget {
    Q_OBJECT
public:
    EstimatePanel(PlanDocument* doc, QWidget* parent = nullptr);

    QString tokensPerSText() const;
    QString mfuText() const;
    IssueList* issues() const { return m_issues; }
    StepTimeBar* stepBar() const { return m_stepBar; }
    QDoubleSpinBox* trainTokensBox() const { return m_trainTokens; }
    QString timeToTrainText() const;
    QString costText() const;

private:
    void refresh();

    PlanDocument* m_doc;
    QLabel* m_tokensPerS;
    QLabel* m_tflops;
    QLabel* m_mfu;
    QLabel* m_step;
    QLabel* m_details;
    StepTimeBar* m_stepBar;
    QDoubleSpinBox* m_trainTokens;
    QLabel* m_timeToTrain;
    QLabel* m_cost;
    IssueList* m_issues;
};

} // namespace meshwork::ui
