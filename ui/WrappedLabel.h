// A word-wrapped QLabel whose size hints cost one text layout per text and width.
// QLabel answers every hint by laying its text out again (rich or selectable text twice:
// at the asked width, then back at its own), and one layout pass of a panel in a scroll
// area asks a dozen times. With text that changes on every step of a slider drag, that was
// most of a frame (bench_ui_latency). Painting and selection stay QLabel's.
#pragma once

#include <QLabel>

#include <array>

namespace meshwork::ui {

class WrappedLabel : public QLabel {
public:
    explicit WrappedLabel(QWidget* parent = nullptr);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    int heightForWidth(int width) const override;

protected:
    void changeEvent(QEvent* e) override;

private:
    void dropHintsIfStale() const;

    // Per text (and font): what the hints are made of.
    mutable bool m_valid = false;
    mutable QString m_hintsFor;
    mutable int m_hintWidth = 0, m_extra = 0; // sizeHint().width(); margins around the text
    mutable QSize m_minimumSizeHint;
    mutable std::array<QPoint, 4> m_heights; // (width, height) pairs, most recent first
    mutable int m_heightCount = 0;
};

} // namespace meshwork::ui
