#include "ui/PlanDocument.h"

#include "ui/StateCommand.h"

#include <QUndoStack>

#include <exception>

namespace meshwork::ui {

PlanDocument::PlanDocument(QObject* parent) : QObject(parent), m_undo(new QUndoStack(this))
{
    m_state = examplePlanState();
    connect(m_undo, &QUndoStack::cleanChanged, this, [this](bool clean) { emit modifiedChanged(!clean); });
    reestimate();
}

void PlanDocument::editPlan(const Plan& plan, const QString& text, const QString& mergeKey)
{
    PlanState s = m_state;
    s.plan = plan;
    editState(s, text, mergeKey);
}

void PlanDocument::editModel(const ModelSpec& model, const QString& text)
{
    PlanState s = m_state;
    s.model = model;
    editState(s, text);
}

void PlanDocument::editCluster(const ClusterSpec& cluster, const QString& text, const QString& mergeKey)
{
    PlanState s = m_state;
    s.plan = fitPlanToCluster(m_state.plan, m_state.cluster, cluster);
    s.cluster = cluster;
    editState(s, text, mergeKey);
}

void PlanDocument::editState(const PlanState& state, const QString& text, const QString& mergeKey)
{
    if (state == m_state) return;
    m_undo->push(new StateCommand(this, m_state, state, text, mergeKey));
}

void PlanDocument::setTarget(Target t)
{
    if (t == m_target) return;
    m_target = t;
    reestimate();
    emit changed();
}

void PlanDocument::reset(const PlanState& state, const QString& filePath)
{
    m_undo->clear();
    m_state = state;
    reestimate();
    setFilePath(filePath);
    m_undo->setClean();
    emit changed();
}

void PlanDocument::setFilePath(const QString& path)
{
    if (path == m_filePath) return;
    m_filePath = path;
    emit filePathChanged(path);
}

bool PlanDocument::isModified() const { return !m_undo->isClean(); }
void PlanDocument::markSaved() { m_undo->setClean(); }

void PlanDocument::applyState(const PlanState& state)
{
    m_state = state;
    reestimate();
    emit changed();
}

void PlanDocument::reestimate()
{
    // A model with broken dimensions (hidden not divisible by heads, ...) would make the
    // planner divide by zero; report its problems instead of estimating.
    const auto modelProblems = m_state.model.validate();
    if (!modelProblems.empty()) {
        m_estimate = Estimate{};
        for (const auto& p : modelProblems) m_estimate.errors.push_back("model: " + p);
        return;
    }
    try {
        m_estimate = meshwork::estimate(m_state.model, m_state.cluster, m_state.plan, m_target);
    } catch (const std::exception& e) {
        m_estimate = Estimate{};
        m_estimate.errors.push_back(e.what());
    }
}

} // namespace meshwork::ui
