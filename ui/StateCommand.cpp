#include "ui/StateCommand.h"

#include "ui/PlanDocument.h"

namespace meshwork::ui {

namespace {
constexpr int kMergeableId = 0x6d657368; // "mesh": every mergeable edit shares it; keys decide
}

StateCommand::StateCommand(PlanDocument* doc, PlanState before, PlanState after, const QString& text,
                           const QString& mergeKey)
    : QUndoCommand(text), m_doc(doc), m_before(std::move(before)), m_after(std::move(after)), m_mergeKey(mergeKey)
{
}

void StateCommand::undo() { m_doc->applyState(m_before); }
void StateCommand::redo() { m_doc->applyState(m_after); }

int StateCommand::id() const { return m_mergeKey.isEmpty() ? -1 : kMergeableId; }

bool StateCommand::mergeWith(const QUndoCommand* other)
{
    auto* o = dynamic_cast<const StateCommand*>(other);
    if (!o || o->m_mergeKey != m_mergeKey || m_mergeKey.isEmpty()) return false;
    m_after = o->m_after;
    // A drag that ends where it began changed nothing: drop the step.
    if (m_after == m_before) setObsolete(true);
    return true;
}

} // namespace meshwork::ui
