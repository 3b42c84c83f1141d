// The one undo command: a state before and after. Merging keeps the first "before" and the
// last "after", so a slider drag undoes in one step (QUndoCommand::mergeWith).
#pragma once

#include "ui/PlanState.h"

#include <QString>
#include <QUndoCommand>

namespace meshwork::ui {

class PlanDocument;

class StateCommand : public QUndoCommand {
public:
    StateCommand(PlanDocument* doc, PlanState before, PlanState after, const QString& text,
                 const QString& mergeKey);

    void undo() override;
    void redo() override;
    int id() const override;
    bool mergeWith(const QUndoCommand* other) override;

private:
    PlanDocument* m_doc;
    PlanState m_before;
    PlanState m_after;
    QString m_mergeKey;
};

} // namespace meshwork::ui
