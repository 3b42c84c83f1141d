// Colours that read in the light and the dark palette alike. Text always comes from the
// palette's roles; these are the fills (axes, memory terms) and the two status colours.
#pragma once

#include <QColor>
#include <QPalette>

class QApplication;

namespace meshwork::ui {

bool isDark(const QPalette& p);

// A categorical colour for group i (Tableau 10 hues, then lighter/darker rounds).
QColor categoryColor(int i);
// Black or white, whichever reads better on fill (for text drawn on our own fills).
QColor textOn(const QColor& fill);

QColor errorColor(const QPalette& p);    // a red that reads on the palette's window
QColor warningColor(const QPalette& p);
QColor okColor(const QPalette& p);

// Memory terms in the order of the stacked bars: weights, gradients, optimizer,
// activations, logits, buffers, context+reserve.
QColor memoryTermColor(int term);

// Fusion with a dark palette (for --palette dark and for screenshots); light restores Fusion's.
void applyPalette(QApplication& app, bool dark);

} // namespace meshwork::ui
