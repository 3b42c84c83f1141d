// The Open Recent menu, kept in QSettings ("meshwork"/"recentFiles").
#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace meshwork::ui {

class RecentFiles : public QObject {
    Q_OBJECT
public:
    explicit RecentFiles(QMenu* menu, QObject* parent = nullptr);

    QStringList files() const;
    void add(const QString& path);
    void remove(const QString& path);

signals:
    void openRequested(const QString& path);

private:
    void rebuild();

    QMenu* m_menu;
};

} // namespace meshwork::ui
