#include "ui/Theme.h"

#include <QApplication>
#include <QStyle>
#include <QStyleFactory>

namespace meshwork::ui {

bool isDark(const QPalette& p)
{
    return p.color(QPalette::Window).lightness() < 128;
}

QColor categoryColor(int i)
{
    static const QRgb kTableau10[] = {0x4e79a7, 0xf28e2b, 0x59a14f, 0xe15759, 0x76b7b2,
                                      0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac};
    const int n = int(std::size(kTableau10));
    if (i < 0) i = 0;
    QColor c = QColor::fromRgb(kTableau10[i % n]);
    switch ((i / n) % 3) {
    case 1: return c.lighter(135);
    case 2: return c.darker(140);
    default: return c;
    }
}

QColor textOn(const QColor& fill)
{
    // Relative luminance (ITU-R BT.709 weights) decides, not HSL lightness.
    const double y = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF();
    return y > 0.5 ? QColor(20, 20, 20) : QColor(250, 250, 250);
}

QColor errorColor(const QPalette& p) { return isDark(p) ? QColor(0xff, 0x7b, 0x72) : QColor(0xc0, 0x1c, 0x28); }
QColor warningColor(const QPalette& p) { return isDark(p) ? QColor(0xe3, 0xb3, 0x41) : QColor(0x9a, 0x67, 0x00); }
QColor okColor(const QPalette& p) { return isDark(p) ? QColor(0x56, 0xd3, 0x64) : QColor(0x1a, 0x7f, 0x37); }

QColor memoryTermColor(int term)
{
    static const QRgb kTerms[] = {0x4e79a7, 0x76b7b2, 0xf28e2b, 0x59a14f, 0xb07aa1, 0xedc948, 0x9c755f};
    return QColor::fromRgb(kTerms[term % int(std::size(kTerms))]);
}

void applyPalette(QApplication& app, bool dark)
{
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    if (!dark) {
        app.setPalette(app.style()->standardPalette());
        return;
    }
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x30), base(0x1e, 0x1f, 0x22), text(0xdf, 0xe1, 0xe5);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2b));
    p.setColor(QPalette::ToolTipBase, QColor(0x3c, 0x3f, 0x41));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x8f, 0x94));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x35, 0x37, 0x3b));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    p.setColor(QPalette::Light, QColor(0x45, 0x48, 0x4c));
    p.setColor(QPalette::Midlight, QColor(0x3c, 0x3f, 0x42));
    p.setColor(QPalette::Mid, QColor(0x4a, 0x4d, 0x51));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, QColor(0x0c, 0x0c, 0x0d));
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7a, 0xd6));
    p.setColor(QPalette::HighlightedText, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::Link, QColor(0x6c, 0xb0, 0xff));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x7a, 0x7d, 0x82));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x7a, 0x7d, 0x82));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x7a, 0x7d, 0x82));
    app.setPalette(p);
}

} // namespace meshwork::ui
