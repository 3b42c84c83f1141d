// The open plan: model, cluster and plan, its live estimate, its undo stack and its file.
// Every edit goes through a QUndoCommand (CONVENTIONS.md, Tiled); panels read from here and
// call edit*(), they never change the state themselves.
#pragma once

#include "core/planner/Estimate.h"
#include "ui/PlanState.h"

#include <QObject>
#include <QString>

class QUndoStack;

namespace meshwork::ui {

class PlanDocument : public QObject {
    Q_OBJECT
public:
    explicit PlanDocument(QObject* parent = nullptr);

    const PlanState& state() const { return m_state; }
    const ModelSpec& model() const { return m_state.model; }
    const ClusterSpec& cluster() const { return m_state.cluster; }
    const Plan& plan() const { return m_state.plan; }
    // The planner's answer for the current state, recomputed on every change (microseconds).
    const Estimate& estimate() const { return m_estimate; }
    Target target() const { return m_target; }

    QUndoStack* undoStack() const { return m_undo; }

    // Each edit is one undo step. Edits with the same non-empty mergeKey in a row merge into
    // one step: a control gives every slider drag its own key, so a drag is one step.
    void editPlan(const Plan& plan, const QString& text, const QString& mergeKey = {});
    void editModel(const ModelSpec& model, const QString& text);
    void editCluster(const ClusterSpec& cluster, const QString& text, const QString& mergeKey = {});
    void editState(const PlanState& state, const QString& text, const QString& mergeKey = {});
    void setTarget(Target t);

    // Replaces everything (file opened, new document): not undoable, clears the stack.
    void reset(const PlanState& state, const QString& filePath = {});

    QString filePath() const { return m_filePath; }
    void setFilePath(const QString& path);
    bool isModified() const;
    void markSaved();

    // Applies a state without an undo command (used by the commands themselves).
    void applyState(const PlanState& state);

signals:
    void changed();              // state or estimate changed; panels refresh
    void filePathChanged(const QString& path);
    void modifiedChanged(bool modified);

private:
    void reestimate();

    PlanState m_state;
    Estimate m_estimate;
    Target m_target = Target::Meshwork;
    QUndoStack* m_undo = nullptr;
    QString m_filePath;
};

} // namespace meshwork::ui
